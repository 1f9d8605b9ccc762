/**
 * Each command file's registrar and the top-level commands it adds (two files add to `jobs` and `services`), in help
 * order. main.ts loads, for a command, only the files that add to it, so that `kumul plan` does not load `kumul
 * serve`'s web framework and store drivers (one second to start instead of three); help, completion and unknown
 * commands load them all. test/cli/registrars.test.ts checks the lists against what each file adds.
 */
import type { Command } from 'commander';

export const REGISTRARS: { commands: string[]; load: () => Promise<(program: Command) => void> }[] = [
  { commands: ['scenario'], load: async () => (await import('./scenario-command.ts')).registerScenarioCommands },
  { commands: ['jobs'], load: async () => (await import('./jobs-command.ts')).registerJobsCommands },
  { commands: ['plan'], load: async () => (await import('./plan-command.ts')).registerPlanCommand },
  { commands: ['backup'], load: async () => (await import('./backup-command.ts')).registerBackupCommands },
  { commands: ['services', 'demand'], load: async () => (await import('./services-command.ts')).registerServicesCommands },
  { commands: ['simulate'], load: async () => (await import('./simulate-command.ts')).registerSimulateCommand },
  { commands: ['serve'], load: async () => (await import('./serve-command.ts')).registerServeCommand },
  { commands: ['jobs', 'bill', 'services'], load: async () => (await import('./client-commands.ts')).registerClientCommands },
  { commands: ['probe'], load: async () => (await import('./probe-command.ts')).registerProbeCommand },
  { commands: ['demo'], load: async () => (await import('./demo-command.ts')).registerDemoCommand },
  { commands: ['completion'], load: async () => (await import('./completion-command.ts')).registerCompletionCommand },
];
