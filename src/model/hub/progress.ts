// Renders download progress for the CLI: on a terminal, one bar per file redrawn in place
// ("model.safetensors [=======>    ] 63% 278.1 MB/438.0 MB"); elsewhere (a pipe, a log file) one
// plain line when a file starts and one when it is done, so logs stay short. It only formats and
// writes to the stream it is given; the downloader knows nothing of terminals. Left out: speed and
// time estimates (they need a clock, and would make the output untestable).

import { DownloadProgress } from "./download.js";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** Decimal units, as the Hub's pages and huggingface_hub's bars show sizes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** One line of at most `width` characters: name, bar, percentage, bytes. */
export function formatProgressLine(progress: DownloadProgress, width = 80): string {
  const { file, done, total } = progress;
  if (total === undefined || total === 0) {
    const line = `${file} ${formatBytes(done)}`;
    return line.length > width ? line.slice(0, width) : line;
  }
  const fraction = Math.min(1, done / total);
  const numbers = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)}`;
  const maxName = Math.max(8, Math.floor(width / 3));
  const name = file.length > maxName ? `…${file.slice(file.length - maxName + 1)}` : file;
  const barWidth = width - name.length - numbers.length - 3; // space and brackets
  if (barWidth < 5) return `${name}${numbers}`.slice(0, width);
  const filled = Math.floor(fraction * barWidth);
  const bar = "=".repeat(filled) + (filled < barWidth ? ">" + " ".repeat(barWidth - filled - 1) : "");
  return `${name} [${bar}]${numbers}`;
}

export interface ProgressRenderer {
  update(progress: DownloadProgress): void;
  /** Ends a bar left open (a download that failed midway). */
  end(): void;
}

export function createProgressRenderer(stream: ProgressStream): ProgressRenderer {
  let open = false;
  let last = "";
  let started = new Set<string>();
  if (!stream.isTTY) {
    return {
      update(p) {
        const size = p.total === undefined ? "" : ` (${formatBytes(p.total)})`;
        if (!started.has(p.file) && !p.finished) {
          started.add(p.file);
          stream.write(p.done > 0 ? `resuming ${p.file} at ${formatBytes(p.done)}${size}\n` : `downloading ${p.file}${size}\n`);
        }
        if (p.finished) stream.write(`downloaded ${p.file}${size}\n`);
      },
      end() {
        started = new Set();
      },
    };
  }
  return {
    update(p) {
      const line = formatProgressLine(p, Math.max(20, (stream.columns ?? 80) - 1));
      if (line !== last || p.finished) {
        // "\r" returns to the line's start, ESC[K clears what a longer previous line left.
        stream.write(`\r${line}\x1b[K`);
        last = line;
        open = true;
      }
      if (p.finished) {
        stream.write("\n");
        open = false;
        last = "";
      }
    },
    end() {
      if (open) stream.write("\n");
      open = false;
      last = "";
    },
  };
}
