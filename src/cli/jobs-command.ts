import type { Command } from 'commander';

export function registerJobsCommands(program: Command): void {
  void program;
}
