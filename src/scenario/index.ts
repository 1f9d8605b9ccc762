/** Scenario files: load, validate, resolve onto a time grid, export. See docs/scenario-format.md. */
export { loadScenario, resolveScenarioDocument, parseScenarioDocument, documentOutline, readScenarioJson, builtinScenarioNames, scenarioPath, type PeriodRequest, type ResolveOptions } from './load.ts';
export { scenarioToExportJson, scenarioFromExportJson, EXPORT_FORMAT, type ScenarioExport } from './export.ts';
export { ScenarioError, type ScenarioIssue } from './errors.ts';
export { formatJson } from './format-json.ts';
