'use strict';

const DEFAULT_TTL_MS = 30 * 60 * 1000;

function createSession(userId, now = Date.now(), ttlMs = DEFAULT_TTL_MS) {
  return { userId, expiresAt: now + ttlMs };
}

function isExpired(session, now = Date.now()) {
  return now >= session.expiresAt;
}

module.exports = { createSession, isExpired, DEFAULT_TTL_MS };
