export * from './client.js';
export * from './errors.js';
export * from './known-hosts.js';
export * from './quote.js';
export * from './probe.js';
