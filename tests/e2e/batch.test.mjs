// Frames that arrive while the worker is busy are posted to each tab together (one array per
// port), and each tab's listeners still get every frame once, in order.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, seqFrames, sleep, workerCopy, timersFired, TIMERS, NEVER, CLOCK_READS, clockReads } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

// Copies of the release worker that count the timer callbacks it runs and its clock reads
// (helpers.mjs: TIMERS, CLOCK_READS).
before(() => {
  workerCopy("timers-batch", TIMERS);
  workerCopy("clock-reads", CLOCK_READS);
});

/** A new context with one harness tab and `clients` clients open on channel `ch` through the
 * worker copy `copy`, every duration at its largest (none of the engine's timers is due). */
async function clientsOfCopy(ch, copy, clients = 1) {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const options = { url: server.ws(`/ws/${ch}`), workerUrl: `/dist-test/${copy}/shared-websocket-worker.js`, ...NEVER };
  for (let i = 0; i < clients; i++) await page.evaluate((o) => T.connect(o), options);
  await until(() => page.evaluate(() => T.clients.every((_, i) => T.state(i)?.state === "open")), `${clients} clients open`);
  return { context, page };
}

/** A new context with one harness tab whose client is open on channel `ch`. */
async function tabOn(ch) {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const url = server.ws(`/ws/${ch}`);
  await page.evaluate((url) => T.connect({ url, heartbeat: false }), url);
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  return { context, page, url };
}

test("5,000 frames in a burst: fewer port messages than frames (batches), every frame once and in order in every listener", async () => {
  const ch = "burst";
  const { context, page, url } = await tabOn(ch);
  // A second port of the same worker, read raw: what the worker posts.
  await page.evaluate((url) => {
    window.RAW = { events: 0, batches: 0, largest: 0, frames: [] };
    RAW.w = T.raw(url, (data) => {
      if (typeof data === "object" && !Array.isArray(data)) return; // welcome, status
      RAW.events++;
      if (Array.isArray(data)) {
        RAW.batches++;
        RAW.largest = Math.max(RAW.largest, data.length);
        RAW.frames.push(...data);
      } else RAW.frames.push(data);
    });
  }, url);
  await until(() => page.evaluate(() => T.state(0)?.tabs === 2), "the raw port counted");
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=5000`);
  const want = seqFrames(firstSeq, firstSeq + 4999, ch);
  await until(() => page.evaluate(() => RAW.frames.length === 5000 && T.clients[0].messages.length === 5000), "5,000 frames in both", 60_000);
  const raw = await page.evaluate(() => ({ events: RAW.events, batches: RAW.batches, largest: RAW.largest, frames: RAW.frames }));
  console.log(`# 5,000 frames reached the raw port in ${raw.events} messages (${raw.batches} batches, the largest ${raw.largest} frames)`);
  assert.deepEqual(raw.frames, want);
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), want);
  assert.ok(raw.batches > 0 && raw.events < 5000, `batched: ${raw.events} messages for 5,000 frames`);
  await context.close();
});

test("a lone frame, a burst right after it, then a lone frame again: each lone frame posted alone, every frame once and in order", async () => {
  const ch = "mixed";
  const { context, page, url } = await tabOn(ch);
  // A second port of the same worker, read raw: each message it gets, as the worker posted it.
  await page.evaluate((url) => {
    window.RAW = { messages: [] };
    RAW.w = T.raw(url, (data) => {
      if (typeof data === "object" && !Array.isArray(data)) return; // welcome, status
      RAW.messages.push(data);
    });
  }, url);
  await until(() => page.evaluate(() => T.state(0)?.tabs === 2), "the raw port counted");
  // The worker has been idle for a while: the lone frame goes at once, and the burst the
  // server sends right after it (one request later) finds it posted or joins it in order.
  const lone = await server.ctl(`/control/broadcast?channel=${ch}&n=1`);
  const burst = await server.ctl(`/control/broadcast?channel=${ch}&n=2000`);
  assert.equal(burst.firstSeq, lone.firstSeq + 1);
  const frames = () => page.evaluate(() => ({ raw: RAW.messages.flat().length, client: T.clients[0].messages.length }));
  await until(async () => { const n = await frames(); return n.raw === 2001 && n.client === 2001; }, "2,001 frames in both", 60_000);
  // Idle again: the next lone frame goes alone too.
  await new Promise((r) => setTimeout(r, 100));
  const last = await server.ctl(`/control/broadcast?channel=${ch}&n=1`);
  assert.equal(last.firstSeq, burst.firstSeq + 2000);
  await until(async () => { const n = await frames(); return n.raw === 2002 && n.client === 2002; }, "2,002 frames in both", 10_000);
  const messages = await page.evaluate(() => RAW.messages);
  const want = seqFrames(lone.firstSeq, last.firstSeq, ch);
  // How many posts the burst took depends on how far the worker fell behind (8 to 25 in
  // five of seven runs here; in two, on a loaded machine, most of the server's frames came
  // slower than the worker posted them and went alone: 1,181 and 2,002 posts): logged, not
  // asserted. The 5,000-frame test above asserts batching.
  console.log(`# 2,002 frames (lone, burst of 2,000, lone) reached the raw port in ${messages.length} messages`);
  assert.equal(messages[0], want[0], "the first lone frame was posted alone");
  assert.equal(messages.at(-1), want.at(-1), "the last lone frame was posted alone");
  assert.deepEqual(messages.flat(), want);
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), want);
  await context.close();
});

test("1,000 sends in one task: every one written in order and acknowledged, in fewer messages than sends", async () => {
  const ch = "sends";
  const { context, page, url } = await tabOn(ch);
  // A raw port of the same worker: what the worker answers.
  await page.evaluate((url) => {
    window.RAW = { events: 0, acked: [] };
    RAW.w = T.raw(url, (data) => {
      const items = Array.isArray(data) ? data : [data];
      // An acknowledgement is the send's id alone, a number.
      if (items.some((m) => typeof m === "number")) RAW.events++;
      for (const m of items) if (typeof m === "number") RAW.acked.push(m);
    });
  }, url);
  await until(() => page.evaluate(() => T.state(0)?.tabs === 2), "the raw port counted");
  await page.evaluate(() => {
    for (let i = 1; i <= 1000; i++) RAW.w.port.postMessage({ t: "send", id: i, data: `s${i}` });
  });
  await until(() => page.evaluate(() => RAW.acked.length === 1000), "1,000 acknowledgements", 30_000);
  const raw = await page.evaluate(() => ({ events: RAW.events, acked: RAW.acked }));
  console.log(`# 1,000 sends acknowledged in ${raw.events} messages`);
  assert.deepEqual(raw.acked, Array.from({ length: 1000 }, (_, i) => i + 1));
  assert.ok(raw.events < 1000, `${raw.events} messages for 1,000 acknowledgements`);
  await until(async () => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).length === 1000, "1,000 frames at the server");
  assert.deepEqual((await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data), Array.from({ length: 1000 }, (_, i) => `s${i + 1}`));
  await context.close();
});

test("a send's acknowledgement goes with the next post to its tab (the server's answer), or alone after 20 ms; sends that say they answer their acknowledgement are not held", async () => {
  const ch = "ack-hold";
  const { context, page, url } = await tabOn(ch);
  // A raw port of the same worker: each message it gets, as the worker posted it, with the
  // time since its last send.
  await page.evaluate((url) => {
    window.RAW = { messages: [], sentAt: 0, loop: 0 };
    RAW.send = (id, data, now) => {
      RAW.sentAt = performance.now();
      RAW.w.port.postMessage({ t: "send", id, data, now });
    };
    RAW.w = T.raw(url, (data) => {
      if (typeof data === "object" && !Array.isArray(data)) return; // welcome, status
      RAW.messages.push({ data, ms: performance.now() - RAW.sentAt });
      // The loop: each acknowledgement of sends 2 to 10 makes the next send at once, saying
      // so (as the page's client does for a send made on hearing of its acknowledgements).
      const id = typeof data === "number" ? data : 0;
      if (id >= 2 && id < 11) RAW.send(id + 1, `loop ${id + 1}`, true);
      if (id === 11) RAW.loop = performance.now() - RAW.loopStart;
    });
  }, url);
  await until(() => page.evaluate(() => T.state(0)?.tabs === 2), "the raw port counted");
  const messages = () => page.evaluate(() => RAW.messages);
  // The server answers a ping at once: its pong takes the acknowledgement along, one post.
  await page.evaluate(() => RAW.send(1, '{"type":"ping"}'));
  const pong = '{"type":"pong"}';
  await until(async () => (await messages()).some((m) => m.data === pong || (Array.isArray(m.data) && m.data.includes(pong))), "the answer");
  const answer = await messages();
  if (answer.length === 1) {
    assert.deepEqual(answer[0].data, [1, pong]);
  } else {
    // On a loaded machine the server's answer can take longer than the hold: then the
    // acknowledgement goes alone once its 20 ms are over (never sooner), and the answer after.
    assert.deepEqual(answer.map((m) => m.data), [1, pong]);
    assert.ok(answer[0].ms >= 19, `send 1 acknowledged alone after ${answer[0].ms} ms`);
    console.log(`# the server's answer came after the hold: the acknowledgement alone after ${answer[0].ms.toFixed(1)} ms`);
  }
  // Nothing else comes: send 2's acknowledgement goes alone, after the hold (20 ms; the
  // page's clock started before the worker's). Sends 3 to 11 are each made as the last one's
  // acknowledgement arrives, with `now`: each is acknowledged without the hold.
  await new Promise((r) => setTimeout(r, 100));
  await page.evaluate(() => {
    RAW.messages = [];
    RAW.loopStart = performance.now();
    RAW.send(2, "loop 2");
  });
  await until(() => page.evaluate(() => RAW.loop > 0), "the loop's 10 acknowledgements");
  const loop = await page.evaluate(() => ({ messages: RAW.messages, ms: RAW.loop }));
  assert.deepEqual(loop.messages.map((m) => m.data), Array.from({ length: 10 }, (_, i) => i + 2));
  assert.ok(loop.messages[0].ms >= 19, `send 2 acknowledged after ${loop.messages[0].ms} ms`);
  console.log(`# acknowledgements in the loop after ${loop.messages.map((m) => m.ms.toFixed(1)).join(", ")} ms`);
  // All 9 held would take 180 ms or more.
  assert.ok(loop.ms < 20 + 150, `10 sends in a loop took ${loop.ms} ms`);
  await until(async () => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).length === 11, "11 frames at the server");
  assert.deepEqual(
    (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data),
    ['{"type":"ping"}', ...Array.from({ length: 10 }, (_, i) => `loop ${i + 2}`)],
  );
  await context.close();
});

test("an acknowledgement held after another port's waits its own 20 ms: the one timer does not post it early", async () => {
  const ch = "ack-deadline";
  const { context, page, url } = await tabOn(ch);
  // Two raw ports of the same worker: the acknowledgement of each, and when it came.
  await page.evaluate((url) => {
    window.RAW = { sentAt: [], ackedAfter: [], welcomed: 0 };
    RAW.ports = [0, 1].map((i) =>
      T.raw(url, (data) => {
        if (data?.t === "welcome") RAW.welcomed++;
        if (typeof data === "number") RAW.ackedAfter[i] = performance.now() - RAW.sentAt[i];
      }),
    );
  }, url);
  await until(() => page.evaluate(() => RAW.welcomed === 2), "the raw ports welcomed");
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "the socket open");
  // Port 0's send arms the timer; port 1's comes 10 ms later, so the timer fires when it has
  // waited half the hold.
  await page.evaluate(async () => {
    const send = (i) => {
      RAW.sentAt[i] = performance.now();
      RAW.ports[i].port.postMessage({ t: "send", id: i + 1, data: `port ${i}` });
    };
    send(0);
    await new Promise((r) => setTimeout(r, 10));
    send(1);
  });
  await until(() => page.evaluate(() => RAW.ackedAfter.filter((t) => t !== undefined).length === 2), "both acknowledgements");
  const after = await page.evaluate(() => RAW.ackedAfter);
  console.log(`# acknowledgements alone after ${after.map((t) => t.toFixed(1)).join(" and ")} ms`);
  // The page's clock and the worker's differ by a fraction of a millisecond.
  assert.ok(after[0] >= 19, `port 0 acknowledged after ${after[0]} ms`);
  assert.ok(after[1] >= 19, `port 1 acknowledged after ${after[1]} ms`);
  await context.close();
});

test("acknowledgements that ride frames leave no timer behind: 20 sends answered on a 5 ms ticker, and no timer callback runs in the worker", async () => {
  const ch = "ack-no-timer";
  const { context, page } = await clientsOfCopy(ch, "timers-batch");
  const start = await page.evaluate(timersFired);
  // Every 2nd frame is answered; the next frame comes 5 ms later and carries the acknowledgement.
  await page.evaluate(() => {
    window.ANSWERED = { frames: 0, settled: 0 };
    T.clients[0].c.on("message", () => {
      if (++ANSWERED.frames % 2 === 0 && ANSWERED.frames <= 40) T.clients[0].c.send("answer").then(() => ANSWERED.settled++);
    });
  });
  await server.ctl(`/control/ticker?channel=${ch}&ms=5&count=60&size=60`);
  await until(() => page.evaluate(() => ANSWERED.frames === 60 && ANSWERED.settled === 20), "60 frames, 20 sends settled");
  // Past the 20 ms an acknowledgement may wait, and then some.
  await sleep(100);
  assert.equal((await page.evaluate(timersFired)) - start, 0, "no timer callback ran in the worker");
  await context.close();
});

test("a frame for 4 ports reads the worker's clock twice: once for the engine and the idle rule, once after its last post", async () => {
  const ch = "clock-reads";
  // Four clients, four ports of the same worker.
  const { context, page } = await clientsOfCopy(ch, "clock-reads", 4);
  // The worker idle for a while: the frame goes to each port at once.
  await sleep(200);
  const before = await page.evaluate(clockReads);
  await server.ctl(`/control/broadcast?channel=${ch}&n=1`);
  await until(() => page.evaluate(() => T.clients.every((c) => c.messages.length === 1)), "the frame in every client");
  await sleep(100);
  assert.equal((await page.evaluate(clockReads)) - before, 2);
  await context.close();
});

test("the client's send says it answers an acknowledgement only when made right after reading a post that acknowledged sends: not from a listener of that post, nor after another post, nor later", async () => {
  const ch = "prompt";
  const { context, page } = await tabOn(ch);
  await page.evaluate(async () => {
    const post = MessagePort.prototype.postMessage;
    const sends = [];
    MessagePort.prototype.postMessage = function (m, ...rest) {
      for (const x of Array.isArray(m) ? m : [m]) if (x?.t === "send") sends.push([x.data, x.now === true]);
      return post.call(this, m, ...rest);
    };
    const c = T.clients[0].c;
    // The page's clock stands still while the posts decide (a loaded machine could otherwise
    // take over PROMPT_MS between reading a post and the rest of an `await`: the core's
    // tests cover the time).
    const still = performance.now();
    performance.now = () => still;
    // The server answers the ping at once, so its acknowledgement rides the pong: a listener
    // that replies to the pong runs while that post is read, and the rest of the `await`
    // after it.
    const off = c.on("message", (d) => d === '{"type":"pong"}' && c.send("reply to the pong"));
    await c.send('{"type":"ping"}');
    off();
    await c.send("after the ping");
    for (let i = 1; i <= 3; i++) await c.send(`loop ${i}`);
    delete performance.now;
    // The clock going again: a timer's send 50 ms after the last acknowledgement answers it
    // no more.
    await new Promise((r) => setTimeout(r, 50));
    await c.send("from a timer");
    window.RAW = { post, sends, before: T.clients[0].messages.length };
  });
  // A frame comes (every acknowledgement is in): a send made after it answers nothing.
  await server.ctl(`/control/broadcast?channel=${ch}&n=1`);
  await until(() => page.evaluate(() => T.clients[0].messages.length === RAW.before + 1), "the frame");
  const sends = await page.evaluate(async () => {
    await T.clients[0].c.send("after a frame");
    MessagePort.prototype.postMessage = RAW.post;
    return RAW.sends;
  });
  assert.deepEqual(sends, [
    ['{"type":"ping"}', false],
    ["reply to the pong", false],
    ["after the ping", true],
    ["loop 1", true],
    ["loop 2", true],
    ["loop 3", true],
    ["from a timer", false],
    ["after a frame", false],
  ]);
  await context.close();
});

test("a page's lone send is posted within send(), with no microtask; the sends right after it in the same task wait for the end of the task and go together", async () => {
  const ch = "lone-send";
  const { context, page } = await tabOn(ch);
  const result = await page.evaluate(async () => {
    const post = MessagePort.prototype.postMessage;
    const posted = [];
    MessagePort.prototype.postMessage = function (m, ...rest) {
      posted.push(m);
      return post.call(this, m, ...rest);
    };
    const c = T.clients[0].c;
    await c.send("warm-up"); // the client's code compiled
    await new Promise((r) => setTimeout(r, 50)); // nothing sent for a while
    posted.length = 0;
    const done = [c.send("lone")];
    const afterFirst = posted.length;
    for (let i = 1; i <= 100; i++) done.push(c.send(`burst ${i}`));
    await null;
    await Promise.all(done);
    MessagePort.prototype.postMessage = post;
    return { afterFirst, posts: posted.length, sent: posted.flatMap((m) => (Array.isArray(m) ? m.map((x) => x.data) : [m.data])) };
  });
  assert.equal(result.afterFirst, 1, "the lone send was posted before send() returned");
  assert.deepEqual(result.sent, ["lone", ...Array.from({ length: 100 }, (_, i) => `burst ${i + 1}`)]);
  // A send goes alone only when 0.25 ms passed since the last: on a loaded machine a few of
  // the burst may; the rest go as one array at the end of the task.
  console.log(`# a lone send and a burst of 100 in ${result.posts} posts`);
  assert.ok(result.posts <= 10, `${result.posts} posts for 101 sends`);
  await until(async () => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).length === 102, "102 frames at the server");
  assert.deepEqual(
    (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data),
    ["warm-up", "lone", ...Array.from({ length: 100 }, (_, i) => `burst ${i + 1}`)],
  );
  await context.close();
});

test("a page's sends of one task reach the worker as one message; a batch holding a batch is refused item by item; order and promises hold", async () => {
  const ch = "page-sends";
  const { context, page, url } = await tabOn(ch);
  // Count the page's own posts to its port: the client posts through MessagePort.prototype.
  const result = await page.evaluate(async () => {
    const post = MessagePort.prototype.postMessage;
    let posts = 0;
    MessagePort.prototype.postMessage = function (...args) {
      posts++;
      return post.apply(this, args);
    };
    const c = T.clients[0].c;
    const done = [];
    for (let i = 1; i <= 500; i++) done.push(c.send(`p${i}`));
    c.subscribe("t", () => {}); // not a send: goes after them
    const settled = await Promise.allSettled(done);
    MessagePort.prototype.postMessage = post;
    return { posts, settled: settled.map((s) => s.status) };
  });
  assert.deepEqual(result.settled, Array(500).fill("fulfilled"));
  // Sends, the topic's subscribe (refused: no topics option; it still went after the sends).
  // The first send goes alone (the page sent nothing for 0.25 ms), and so may a few more
  // when the client's code is compiled on its first calls or the machine is loaded; the rest
  // go as one array at the end of the task.
  console.log(`# 500 sends and a subscribe in ${result.posts} posts`);
  assert.ok(result.posts <= 10, `${result.posts} posts for 500 sends and a subscribe`);
  await until(async () => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).length === 500, "500 frames at the server");
  assert.deepEqual((await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data), Array.from({ length: 500 }, (_, i) => `p${i + 1}`));
  // A raw port posting a batch with a batch inside: that item is refused, the others carried out.
  const errors = await page.evaluate(async (url) => {
    const got = [];
    const w = T.raw(url, (data) => (Array.isArray(data) ? data : [data]).forEach((m) => m?.t === "error" && got.push(m.message)));
    w.port.postMessage(["raw 1", ["nested"], "raw 2", { t: "nonsense" }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    w.port.postMessage({ t: "bye" });
    return got;
  }, url);
  assert.deepEqual(errors, ["tabmux: bad message to the worker: a batch holds messages, not batches", 'tabmux: bad message to the worker: unknown message type "nonsense"']);
  await until(async () => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).length === 502, "the raw batch's 2 frames");
  assert.deepEqual((await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).slice(500).map((r) => r.data), ["raw 1", "raw 2"]);
  await context.close();
});
