import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  hostnameOf,
  insecureRegistriesOf,
  isInsecureHost,
  isLoopbackHost,
  loadHostTls,
  proxyFor,
} from './transport-policy';

describe('isLoopbackHost / isInsecureHost', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['127.9.9.9', true],
    ['localhost:5000', true],
    ['[::1]:5000', true],
    ['registry.localhost', true],
    ['128.0.0.1', false],
    ['reg.example.com:5000', false],
    ['localhost.example.com', false],
  ])('%s loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it.each([
    ['reg.example.com:5000', ['reg.example.com:5000'], true],
    ['reg.example.com:5000', ['reg.example.com'], true],
    ['reg.example.com:5000', ['http://reg.example.com:5000/'], true],
    ['reg.example.com:5000', ['other.example.com'], false],
    ['10.1.2.3:5000', ['10.0.0.0/8'], true],
    ['11.1.2.3:5000', ['10.0.0.0/8'], false],
    ['127.0.0.1:5000', [], true],
  ])('%s insecure with %p: %s', (host, list, expected) => {
    expect(isInsecureHost(host, list)).toBe(expected);
  });

  it('reads host names out of host:port forms', () => {
    expect(hostnameOf('[::1]:5000')).toBe('::1');
    expect(hostnameOf('reg:5000')).toBe('reg');
    expect(hostnameOf('reg')).toBe('reg');
  });
});

describe('proxyFor', () => {
  const url = new URL('https://reg.example.com/v2/');
  it.each([
    [{ HTTPS_PROXY: 'http://proxy:3128' }, 'http://proxy:3128/'],
    [{ https_proxy: 'proxy:3128' }, 'http://proxy:3128/'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.example.com' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'reg.example.com:8443' }, 'http://proxy:3128/'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'other.com, reg.example.com' }, undefined],
    [{ HTTP_PROXY: 'http://proxy:3128' }, undefined],
    [{}, undefined],
  ])('%p → %s', (env, expected) => {
    expect(proxyFor(url, env)?.href).toBe(expected);
  });

  it('never proxies loopback', () => {
    expect(proxyFor(new URL('http://127.0.0.1:5000/v2/'), { HTTP_PROXY: 'http://proxy:3128' })).toBeUndefined();
  });

  it('says which variable is not a URL', () => {
    expect(() => proxyFor(url, { HTTPS_PROXY: 'http://[bad' })).toThrow('HTTPS_PROXY is not a URL');
  });
});

describe('loadHostTls', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-certs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a host's CAs and client certificate as docker push does", () => {
    const host = path.join(dir, 'reg.example.com:5000');
    mkdirSync(host);
    writeFileSync(path.join(host, 'ca.crt'), 'CA');
    writeFileSync(path.join(host, 'client.cert'), 'CERT');
    writeFileSync(path.join(host, 'client.key'), 'KEY');
    const tls = loadHostTls('reg.example.com:5000', dir);
    expect(tls.ca?.map(String)).toEqual(['CA']);
    expect(String(tls.cert)).toBe('CERT');
    expect(String(tls.key)).toBe('KEY');
  });

  it('is empty for a host without a directory, and refuses a certificate without its key', () => {
    expect(loadHostTls('none.example.com', dir)).toEqual({});
    mkdirSync(path.join(dir, 'half.example.com'));
    writeFileSync(path.join(dir, 'half.example.com', 'client.cert'), 'CERT');
    expect(() => loadHostTls('half.example.com', dir)).toThrow('has no client.key beside it');
  });
});

describe('insecureRegistriesOf', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-daemon-json-'));
  const daemonJson = path.join(dir, 'daemon.json');
  writeFileSync(daemonJson, JSON.stringify({ 'insecure-registries': ['reg.lan:5000', '10.1.0.0/16', 7] }));
  const notJson = path.join(dir, 'broken.json');
  writeFileSync(notJson, '{ not json');

  it("reads the engine's insecure-registries and DOCKPUSH_INSECURE_REGISTRIES, as docker push honours them", () => {
    const env = { DOCKPUSH_INSECURE_REGISTRIES: ' ci.lan , ,other.lan:443' };
    expect(insecureRegistriesOf(env, [daemonJson, path.join(dir, 'missing.json'), notJson])).toEqual([
      'ci.lan',
      'other.lan:443',
      'reg.lan:5000',
      '10.1.0.0/16',
    ]);
    expect(isInsecureHost('10.1.2.3:5000', insecureRegistriesOf({}, [daemonJson]))).toBe(true);
    expect(isInsecureHost('reg.example.com', insecureRegistriesOf({}, [daemonJson]))).toBe(false);
  });

  it('marks none when nothing is configured', () => {
    expect(insecureRegistriesOf({}, [path.join(dir, 'missing.json')])).toEqual([]);
  });
});
