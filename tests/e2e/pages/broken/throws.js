// A worker script that throws while it starts (tests/e2e/fallback.test.mjs).
throw new Error("this worker script is broken on purpose");
