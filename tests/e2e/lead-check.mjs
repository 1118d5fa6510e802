// Reading the records of `T.lead` (tests/e2e/pages/harness.js) for the leader tests, in
// tests/e2e/leader.test.mjs and the engine suite.

/**
 * Every instant some tab recorded `leader: true`, the tabs whose state was true then: a tab's
 * state at time t is its latest record at or before t, and after its last record it saw
 * nothing (it closed or crashed). With `staleMs`, a tab whose latest record is older than that
 * saw nothing meanwhile either (it was blocked). Returns the instants where two or more tabs
 * led, with who.
 */
export function overlaps(records, { staleMs = Infinity } = {}) {
  const states = records.filter((r) => "leader" in r).sort((a, b) => a.t - b.t);
  const last = new Map();
  for (const r of states) last.set(r.tab, r.t);
  const now = new Map();
  const out = [];
  for (const r of states) {
    now.set(r.tab, { leader: r.leader, t: r.t });
    const leading = [...now].filter(([tab, s]) => s.leader && last.get(tab) >= r.t && r.t - s.t <= staleMs).map(([tab]) => tab);
    if (leading.length > 1) out.push({ t: r.t, leading });
    if (last.get(r.tab) === r.t) now.set(r.tab, { leader: false, t: r.t });
  }
  return out;
}

/** The first record of a tab becoming leader (an event) after `t`, or undefined. */
export function nextLeader(records, t) {
  return records.filter((r) => r.event && r.leader && r.t > t).sort((a, b) => a.t - b.t)[0];
}

/** How many `leader` samples each tab posted (the 10 ms sampler's count). */
export function samples(records) {
  const n = {};
  for (const r of records) if ("leader" in r && !r.event) n[r.tab] = (n[r.tab] ?? 0) + 1;
  return n;
}

/** The sequence numbers each tab's exclusive handler ran for, in order. */
export function handled(records) {
  const by = {};
  for (const r of records) if ("one" in r) (by[r.tab] ??= []).push(r.one);
  return by;
}
