/**
 * Terminal progress for a run: one bar per step, driven by the run view. Used by `npm start`'s sample run and
 * `agentplane runs watch`.
 */
import cliProgress from 'cli-progress';
import type { RunView, StepView } from './run-view';

const label = (step: StepView) => {
  const state = step.status === 'running' ? '' : ` ${step.status}`;
  return `${step.stepId.padEnd(14)}${state.padEnd(11)}`;
};

export class ProgressBars {
  private readonly multibar: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(stream: NodeJS.WriteStream = process.stdout) {
    this.multibar = new cliProgress.MultiBar(
      {
        stream,
        format: ' {label} {bar} {value}/{total} items | {failed} failed | {tokens} tokens | ${cost}',
        hideCursor: true,
        clearOnComplete: false,
        barsize: 28,
        // Non-TTY output (CI, pipes) still gets the final state of each bar.
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(view: RunView): void {
    for (const step of view.steps) {
      if (step.status === 'pending') continue;
      const total = Math.max(step.totalItems, 1);
      const payload = {
        label: label(step),
        failed: step.failed,
        tokens: step.tokens,
        cost: step.costUsd.toFixed(4),
      };
      let bar = this.bars.get(step.stepId);
      if (!bar) {
        bar = this.multibar.create(total, 0, payload);
        this.bars.set(step.stepId, bar);
      }
      bar.setTotal(total);
      const done = step.status === 'skipped' ? total : step.succeeded + step.failed;
      bar.update(Math.min(done, total), payload);
    }
  }

  stop(): void {
    this.multibar.stop();
  }
}
