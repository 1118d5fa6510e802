// A worker script that takes every port and never answers (tests/e2e/fallback.test.mjs).
self.addEventListener("connect", (e) => e.ports[0].start());
