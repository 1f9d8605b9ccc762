import type { Command } from 'commander';

export function registerPlanCommand(program: Command): void {
  void program;
}
