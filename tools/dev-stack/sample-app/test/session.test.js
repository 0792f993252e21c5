'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { createSession, isExpired } = require('../src/session');

test('a new session is not expired', () => {
  const session = createSession('u1', 1000, 100);
  assert.strictEqual(isExpired(session, 1050), false);
});

test('a session expires at its ttl', () => {
  const session = createSession('u1', 1000, 100);
  assert.strictEqual(isExpired(session, 1100), true);
});
