/**
 * A browser stand-in for Node's `url` module: @vscode/debugadapter takes only `URL` from it, which
 * the web platform has. The web bundle aliases `url` to this file (scripts/bundle.js).
 */
export const URL = globalThis.URL;
