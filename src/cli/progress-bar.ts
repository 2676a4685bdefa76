// A one-line progress bar for a terminal (redrawn in place), or plain log lines when the output is
// not a terminal (CI logs, files), so the training loop itself never writes to the screen.

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export class ProgressBar {
  private lastPlain = 0;
  /** A terminal line drawn and not yet ended. */
  private open = false;

  /** `unit` names what is counted in the plain log lines ("step 10/200"). */
  constructor(private readonly out: ProgressOutput, private readonly plainEvery = 10, private readonly unit = "step") {}

  update(done: number, total: number, seconds: number, fields: Record<string, string>): void {
    const eta = done > 0 ? (seconds / done) * (total - done) : Infinity;
    const info = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join("  ");
    if (!this.out.isTTY) {
      if (done - this.lastPlain >= this.plainEvery || done === total || done === 1) {
        this.out.write(`${this.unit} ${done}/${total}  ${info}  elapsed ${clock(seconds)}  eta ${clock(eta)}\n`);
        this.lastPlain = done;
      }
      return;
    }
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 100) - 70));
    const filled = Math.round((width * done) / Math.max(total, 1));
    this.open = true;
    this.out.write(`\r\x1b[K${String(done).padStart(String(total).length)}/${total} [${"█".repeat(filled)}${"·".repeat(width - filled)}] ${info}  ${clock(seconds)}<${clock(eta)}`);
  }

  /** Ends the bar's line before other output (and before exiting: no half line left on the terminal). */
  break(): void {
    if (!this.open) return;
    this.open = false;
    this.out.write("\n");
  }
}
