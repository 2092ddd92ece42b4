export { renderReport } from './render';
export type { ReportInput,  } from './render';
