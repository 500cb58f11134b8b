/**
 * Editor-free stand-ins for VS Code's CancellationToken and Disposable, so the core can be
 * cancelled from the extension (a vscode.CancellationToken fits this shape), the companion or the
 * CLI (Ctrl-C) alike.
 */
export interface DisposableLike {
  dispose(): void;
}

export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): DisposableLike;
}

/** A token that is cancelled when the given AbortSignal aborts. */
export function tokenFromSignal(signal: AbortSignal): CancellationTokenLike {
  return {
    get isCancellationRequested() {
      return signal.aborted;
    },
    onCancellationRequested(listener) {
      const handler = () => listener();
      signal.addEventListener('abort', handler, { once: true });
      return { dispose: () => signal.removeEventListener('abort', handler) };
    },
  };
}
