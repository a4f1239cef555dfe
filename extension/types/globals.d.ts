// Globals the sources use that @types/chrome does not declare.

/** Firefox's promise-based WebExtension namespace; `common/api.js` picks it over `chrome`. */
declare var browser: typeof chrome | undefined;

/** Firefox content scripts: a copy of `value` owned by the page's `scope`. */
declare function cloneInto<T>(value: T, scope: object, options?: { cloneFunctions?: boolean }): T;
