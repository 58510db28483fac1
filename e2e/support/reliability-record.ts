import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { E2eEngine } from './engines';
import { e2eRunId, e2eTmpDir } from './env';

/**
 * What the reliability tests tried and what happened, one JSON line each, gathered
 * into docs/reliability.md by the e2e global teardown: the table is the test run's
 * own record, never hand-written.
 */
export interface ReliabilityRecord {
  kind: 'fault' | 'load' | 'cancel' | 'bad-input' | 'secret' | 'hung';
  case: string;
  outcome: string;
  detail?: string;
  /** Which adapter, for bad input and secrets. */
  adapter?: string;
  /** Which push engine, for cases run with each. */
  engine?: E2eEngine;
  /** For a hung peer: the deadline that applied, and how long the run took in all. */
  deadline?: string;
  seconds?: number;
}

export const reliabilityLog = path.join(e2eTmpDir, `reliability-${e2eRunId}.jsonl`);

export function recordReliability(record: ReliabilityRecord): void {
  mkdirSync(e2eTmpDir, { recursive: true });
  appendFileSync(reliabilityLog, JSON.stringify(record) + '\n');
}
