export { renderReport } from './render';
export type { ReportInput, ReportProgram } from './render';
