// `references`: plain text, text documents by URL, images by URL or data: URI, and what is refused.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';
import { ask, call, textOf } from './helpers.js';

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PNG_DATA_URI = `data:image/png;base64,${PNG.toString('base64')}`;

describe('conversation references', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('a plain string is a context document placed before the question', async () => {
    const res = await ask(h, { model: 'gpt-4o', question: 'What colour is the sky?', references: ['On this planet the sky is green.'] });
    assert.equal(res.status, 200);
    const sent = h.sim.last().body.messages.at(-1);
    assert.equal(sent.content, '<document source="reference 1">\nOn this planet the sky is green.\n</document>\n\nWhat colour is the sky?');
  });

  test('a text document URL is fetched and added with its source', async () => {
    const url = h.sim.serveFile('/notes/fruit.md', 'text/markdown; charset=utf-8', '# Fruit\nApples: 7\n');
    const json = h.sim.serveFile('/data/prices', 'application/json', '{"apple": 0.5}');
    const res = await ask(h, { model: 'gpt-4o', question: 'How many apples, at what price?', references: [url, json] });
    assert.equal(res.status, 200);
    const text = h.sim.last().body.messages.at(-1).content;
    assert.equal(
      text,
      `<document source="${url}">\n# Fruit\nApples: 7\n\n</document>\n\n<document source="${json}">\n{"apple": 0.5}\n</document>\n\nHow many apples, at what price?`,
    );
    assert.ok(h.sim.fileRequests.includes('/notes/fruit.md'));
  });

  test('an image URL on a vision model becomes an image part of the question', async () => {
    const url = h.sim.serveFile('/photos/apples.png', 'image/png', PNG);
    const fetchedBefore = h.sim.fileRequests.length;
    const res = await ask(h, { model: 'gpt-4o', question: 'How many apples are in this picture?', references: [url], stateful: true });
    assert.equal(res.status, 200);
    assert.deepEqual(h.sim.last().body.messages.at(-1).content, [
      { type: 'text', text: 'How many apples are in this picture?' },
      { type: 'image_url', image_url: { url } },
    ]);
    // Known image extensions go to the model as URLs, unfetched, like image_url parts on /v1.
    assert.equal(h.sim.fileRequests.length, fetchedBefore);
    const read = await call(h, 'GET', `/aichat/conversations/${res.body.id}`);
    assert.deepEqual(read.body.turns[0].references, [url]);
    assert.equal(read.body.turns[0].question, 'How many apples are in this picture?');
  });

  test('a URL without an image extension is told apart by its content type', async () => {
    const url = h.sim.serveFile('/render?id=7', 'image/jpeg', PNG);
    const res = await ask(h, { model: 'gpt-4.1-mini', question: 'Describe it.', references: [url] });
    assert.equal(res.status, 200);
    assert.deepEqual(h.sim.last().body.messages.at(-1).content[1], { type: 'image_url', image_url: { url } });
    assert.ok(h.sim.fileRequests.includes('/render?id=7'));
  });

  test('a data: URI image is passed as an image part; a text data: URI is a document', async () => {
    const text = `data:text/plain;base64,${Buffer.from('Pears: 3').toString('base64')}`;
    const res = await ask(h, { model: 'gpt-4o', question: 'Count the fruit.', references: [PNG_DATA_URI, text], stateful: true });
    assert.equal(res.status, 200);
    assert.deepEqual(h.sim.last().body.messages.at(-1).content, [
      { type: 'text', text: '<document source="data:text/plain">\nPears: 3\n</document>\n\nCount the fruit.' },
      { type: 'image_url', image_url: { url: PNG_DATA_URI } },
    ]);
    // Read back, a long data: URI is shown by its start only (the stored question keeps it whole).
    const read = await call(h, 'GET', `/aichat/conversations/${res.body.id}`);
    assert.deepEqual(read.body.turns[0].references, [`data:image/png;base64,… (${PNG_DATA_URI.length} characters)`, text]);
    await ask(h, { model: 'gpt-4o', question: 'And now?', id: res.body.id, stateful: true });
    assert.deepEqual(h.sim.last().body.messages[0].content[1], { type: 'image_url', image_url: { url: PNG_DATA_URI } });
  });

  test('an image on a model without vision is a 400 naming references, and nothing is sent upstream', async () => {
    const before = h.sim.requests.length;
    for (const ref of [h.sim.serveFile('/photos/pear.jpg', 'image/jpeg', PNG), PNG_DATA_URI]) {
      const res = await ask(h, { model: 'deepseek-v3', question: 'How many apples are in this picture?', references: [ref] });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.type, 'invalid_request_error');
      assert.equal(res.body.error.code, 'image_not_supported');
      assert.equal(res.body.error.param, 'references');
    }
    assert.equal(h.sim.requests.length, before);
  });

  test('unfetchable or unsupported references are 400s naming the reference', async () => {
    const binary = h.sim.serveFile('/blob.bin', 'application/octet-stream', Buffer.alloc(16));
    const cases = [
      [`${h.sim.url}/missing.txt`, 'HTTP 404'],
      [binary, 'unsupported content type'],
      ['data:application/zip;base64,UEsDBA==', 'only images and text documents'],
    ];
    for (const [ref, why] of cases) {
      const res = await ask(h, { model: 'gpt-4o', question: 'read this', references: ['fine', ref] });
      assert.equal(res.status, 400, ref);
      assert.equal(res.body.error.param, 'references[1]');
      assert.ok(res.body.error.message.includes(why), res.body.error.message);
    }
  });

  test('documents stay in the history; images of earlier turns become a note for a model without vision', async () => {
    const doc = h.sim.serveFile('/notes/plan.txt', 'text/plain', 'Meet at noon.');
    const img = h.sim.serveFile('/photos/map.webp', 'image/webp', PNG);
    const first = await ask(h, { model: 'gpt-4o', question: 'Where and when?', references: [doc, img], stateful: true });
    assert.equal(first.status, 200);
    const next = await ask(h, { model: 'deepseek-v3', question: 'Repeat the time.', id: first.body.id, stateful: true });
    assert.equal(next.status, 200);
    const [user] = h.sim.last().body.messages;
    assert.equal(textOf(user.content), `<document source="${doc}">\nMeet at noon.\n</document>\n\nWhere and when?\n[image: ${img}]`);
  });

  test('private addresses are refused unless OMNIGATE_ALLOW_PRIVATE_URLS=1', async () => {
    const strict = await startHarness({ sim: h.sim, env: { OMNIGATE_ALLOW_PRIVATE_URLS: '0' } });
    try {
      const url = h.sim.serveFile('/notes/internal.txt', 'text/plain', 'internal');
      const res = await ask(strict, { model: 'gpt-4o', question: 'read it', references: [url] });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'invalid_url');
      assert.match(res.body.error.message, /private and loopback addresses are not allowed/);
    } finally {
      await strict.close();
    }
  });
});
