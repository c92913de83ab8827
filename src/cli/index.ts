#!/usr/bin/env node
import { Command } from 'commander';
import { SeatmeterError } from '../core/errors.js';
import { closeCommand } from './commands/close.js';
import { demoCommand } from './commands/demo.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { reportCommand } from './commands/report.js';
import { serveCommand } from './commands/serve.js';

const program = new Command('seatmeter')
  .description('licence-seat metering and billing')
  .addCommand(serveCommand())
  .addCommand(migrateCommand())
  .addCommand(importCommand())
  .addCommand(reportCommand())
  .addCommand(closeCommand())
  .addCommand(demoCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // One line, non-zero exit: what went wrong, not a stack trace.
  const message = error instanceof SeatmeterError || error instanceof Error ? error.message : String(error);
  console.error(`seatmeter: ${message}`);
  process.exitCode = 1;
}
