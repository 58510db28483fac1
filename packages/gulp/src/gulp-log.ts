/** A log line writer: `[HH:MM:SS] [label] text`, as fancy-log (gulp's own logger) prints. */
export type GulpLog = (line: string) => void;

export function createGulpLog(
  label: string,
  write: (text: string) => void = (text) => process.stdout.write(text),
  now: () => Date = () => new Date(),
): GulpLog {
  return (line) => write(`[${timestamp(now())}] [${label}] ${line}\n`);
}

export function timestamp(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
