import type { Command } from 'commander';

export function registerScenarioCommands(program: Command): void {
  void program;
}
