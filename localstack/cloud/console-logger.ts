import type { CloudLogger } from './types';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** A terse logger for the local cloud's own messages (functions log to files). */
export function consoleLogger(level: keyof typeof LEVELS = 'info'): CloudLogger {
  const min = LEVELS[level];
  const write = (lvl: keyof typeof LEVELS) => (message: string, extra?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const tail = extra && Object.keys(extra).length > 0 ? ' ' + JSON.stringify(extra) : '';
    process.stderr.write(`[local-cloud] ${lvl} ${message}${tail}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
