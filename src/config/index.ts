// The config module: MHA 0.58's app1.cnf / masterha_default.cnf into one validated AppConfig.
export * from './types.js';
export { loadConfig, parseConfigText, DEFAULTS, DEFAULT_GLOBAL_CONFIG_FILE, INIT_CONF_LOAD_SCRIPT_TIMEOUT_MS } from './load.js';
export { PARAMS, PARAM_BY_NAME, type ParamSpec, type ParamKind, type ParamScope } from './params.js';
export { parseSshOptions, splitWords, type ParsedSshOptions } from './ssh-options.js';
