// The deployment's pack-host list (same syntax as CSP host sources) and the check before any fetch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PACK_HOSTS, hostMatches, packHosts, packUrlAllowed } from '../../src/packs/download/hosts.ts';
import { contentSecurityPolicy } from '../../scripts/csp.ts';

test('host sources match like CSP: scheme, host (wildcard subdomains), port', () => {
  const m = (u: string, s: string) => hostMatches(new URL(u), s);
  assert.ok(m('https://huggingface.co/x/resolve/main/manifest.json', 'https://huggingface.co'));
  assert.ok(m('https://cdn-lfs.hf.co/repos/a', 'https://*.hf.co'));
  assert.ok(m('https://cas-bridge.xethub.hf.co/a', 'https://*.hf.co'));
  assert.ok(!m('https://hf.co.evil.example/a', 'https://*.hf.co'));
  assert.ok(!m('https://evilhf.co/a', 'https://*.hf.co'));
  assert.ok(!m('http://huggingface.co/a', 'https://huggingface.co'));
  assert.ok(m('http://127.0.0.1:8123/p/', 'http://127.0.0.1:*'));
  assert.ok(!m('http://127.0.0.1:8123/p/', 'http://127.0.0.1'));
  assert.ok(m('https://a.example:443/', 'https://a.example'));
  assert.ok(!m('https://a.example/', 'not a source'));
});

test('pack URLs: own origin always, else the configured list (default Hugging Face)', () => {
  assert.deepEqual(packHosts(undefined), DEFAULT_PACK_HOSTS);
  assert.deepEqual(packHosts('https://a.example, https://*.b.example'), ['https://a.example', 'https://*.b.example']);
  assert.ok(packUrlAllowed('https://app.example/packs/tiny/', 'https://app.example', []));
  assert.ok(packUrlAllowed('https://huggingface.co/u/r/resolve/main/', 'https://app.example', DEFAULT_PACK_HOSTS));
  assert.ok(!packUrlAllowed('https://evil.example/p/', 'https://app.example', DEFAULT_PACK_HOSTS));
  assert.ok(!packUrlAllowed('javascript:alert(1)', 'https://app.example', DEFAULT_PACK_HOSTS));
});

test('CSP: the same hosts in connect-src; wasm allowed, eval not; the app is not frameable, the embed by its allowed origins', () => {
  const { app, embed } = contentSecurityPolicy('https://packs.example', 'https://host.example');
  assert.match(app, /connect-src 'self' blob: data: https:\/\/packs\.example(;|$)/);
  assert.match(app, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.doesNotMatch(app, /'unsafe-eval'/);
  assert.match(app, /frame-ancestors 'self'/);
  assert.match(embed, /frame-ancestors https:\/\/host\.example/);
  assert.match(contentSecurityPolicy(undefined, undefined).embed, /frame-ancestors \*/);
});
