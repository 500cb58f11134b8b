/**
 * The idle `limits.ttl` of SPEC §7: a running sandbox with no lifecycle activity for that long is
 * stopped (its data kept) — after a warning, so whoever is using it can keep it. Activity is the
 * last lifecycle entry of the ledger for that sandbox, or a "keep" from a client. The companion
 * runs the watcher; the decision is here, with an injectable clock, so it can be tested.
 */
import type { WorkspaceConfig } from '../config/types';
import type { SandboxStatus } from './types';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `8h`, `2d`, `90s` → milliseconds; undefined for anything else. */
export function parseDuration(text: string | undefined): number | undefined {
  const m = /^(\d+)([smhd])$/.exec(text?.trim() ?? '');
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

export interface IdleNotice {
  configFile: string;
  name: string;
  /** How long it has been idle, and in how long it will be stopped (0: now). */
  idleMs: number;
  stopInMs: number;
}

export interface TtlWatcherOptions {
  now?: () => number;
  /** The warning comes this long before acting (default 10 minutes, at most half the ttl). */
  warnBeforeMs?: number;
  loadConfig(configFile: string): Promise<WorkspaceConfig>;
  list(configFile: string, config: WorkspaceConfig): Promise<SandboxStatus[]>;
  /** When each sandbox of the config last had a lifecycle event (ms since the epoch), by name. */
  lastActivities(configFile: string): Promise<Map<string, number>>;
  warn(notice: IdleNotice): void;
  stop(notice: IdleNotice): void;
}

export class TtlWatcher {
  private readonly configs = new Set<string>();
  private readonly kept = new Map<string, number>();
  /** For each sandbox, the activity time its warning / its stop was for (a later activity starts over). */
  private readonly warned = new Map<string, number>();
  private readonly acted = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: TtlWatcherOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Watches this config's sandboxes from now on (the companion calls it for every config it serves). */
  track(configFile: string): void {
    this.configs.add(configFile);
  }

  /** Someone is using it: idle time starts again. */
  keep(configFile: string, name: string): void {
    const key = `${configFile}\0${name}`;
    this.kept.set(key, this.now());
    this.warned.delete(key);
    this.acted.delete(key);
  }

  /** One pass over every tracked config: warns once, then stops each sandbox idle past its ttl. */
  async tick(): Promise<void> {
    for (const configFile of this.configs) {
      let config: WorkspaceConfig;
      try {
        config = await this.opts.loadConfig(configFile);
      } catch {
        continue; // a broken or removed config: nothing to decide
      }
      const ttl = parseDuration(config.limits?.ttl);
      if (!ttl) continue;
      const warnBefore = Math.min(this.opts.warnBeforeMs ?? 10 * 60_000, ttl / 2);
      const running = (await this.opts.list(configFile, config).catch(() => [])).filter(
        (s) => s.state === 'running' || s.state === 'degraded',
      );
      const activity = running.length ? await this.opts.lastActivities(configFile).catch(() => new Map()) : new Map();
      for (const s of running) {
        const key = `${configFile}\0${s.name}`;
        const last = Math.max(this.kept.get(key) ?? 0, activity.get(s.name) ?? 0);
        if (!last) {
          this.keep(configFile, s.name); // running since before we watched: count from now
          continue;
        }
        const idleMs = this.now() - last;
        const notice = { configFile, name: s.name, idleMs, stopInMs: Math.max(0, ttl - idleMs) };
        if (idleMs >= ttl) {
          if (this.acted.get(key) !== last) {
            this.acted.set(key, last);
            this.opts.stop(notice);
          }
        } else if (idleMs >= ttl - warnBefore && this.warned.get(key) !== last) {
          this.warned.set(key, last);
          this.opts.warn(notice);
        }
      }
    }
  }
}
