// Globals the sources use that @types/chrome does not declare.

/** Firefox's promise-based WebExtension namespace; `common/api.js` picks it over `chrome`. */
declare var browser: (typeof chrome & {
  /** Firefox only (options/tls.js): PKCS#11 modules for TLS client authentication. */
  pkcs11?: {
    installModule(name: string, flags?: number): Promise<void>;
    uninstallModule(name: string): Promise<void>;
    isModuleInstalled(name: string): Promise<boolean>;
    getModuleSlots(name: string): Promise<object[]>;
  };
}) | undefined;

// File System Access API members the lib does not declare yet (pli/pli.js; Chromium only).
interface Window {
  showSaveFilePicker?: (options?: object) => Promise<FileSystemFileHandle>;
}
interface FileSystemDirectoryHandle {
  keys(): AsyncIterableIterator<string>;
}
// OPFS's synchronous access handle (dedicated workers only: pli/file-worker.js), which the
// DOM lib leaves to its worker variant.
interface FileSystemSyncAccessHandle {
  write(buffer: ArrayBufferView | ArrayBuffer, options?: { at?: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
interface FileSystemFileHandle {
  createSyncAccessHandle(): Promise<FileSystemSyncAccessHandle>;
}

/** Firefox content scripts: a copy of `value` owned by the page's `scope`. */
declare function cloneInto<T>(value: T, scope: object, options?: { cloneFunctions?: boolean }): T;

/** content/activation.js: whether the person is using this frame (isolated world). */
declare var parapheUserActivation: (() => boolean) | undefined;

/** content/shared.js: what every content script needs, once (isolated world). */
declare var parapheContent: Readonly<{
  api: typeof chrome;
  background(message: object): Promise<any>;
  checkFiles(request: { type?: unknown; documents?: unknown; file?: unknown; [field: string]: unknown }): Promise<unknown>;
  FIREFOX: boolean;
  toPage<T>(value: T): T;
  pageOrigin(): string;
  activated(): boolean;
  base64(bytes: Uint8Array): string;
  fromBase64(text: string): Uint8Array<ArrayBuffer>;
  extensionFrame(): ExtensionFrame;
  plainError(thrown: unknown): { code: string; message: string; [field: string]: unknown };
  portRequest(
    name: string,
    message: object,
    handlers?: { onProgress?: (progress: any) => void; onAsk?: (ask: any) => Promise<unknown> },
  ): Promise<any>;
}>;

/** content/shared.js: the extension frame (frame/frame.js) while a request uses it. */
interface ExtensionFrame {
  users: number;
  /** false: the frame did not start in time (the caller goes its slower way). */
  ready: Promise<boolean>;
  run(job: { kind: string; blob?: Blob } & Record<string, unknown>, onProgress?: (done: number) => void): Promise<any>;
  release(): void;
}

/** common/radar-rules.js: what the radar recognizes, `[kind, rule]` pairs, `page`: `[kind, HTTP status, title]` (its own world's global). */
declare var parapheRadarRules: Readonly<{ url: [string, RegExp][]; text: [string, RegExp][]; page: [string, number, RegExp][] }>;

/** content/libersign-relay.js and content/radar.js: already running in this frame (isolated world). */
declare var parapheLibersignRelay: boolean | undefined;
declare var parapheRadar: boolean | undefined;
