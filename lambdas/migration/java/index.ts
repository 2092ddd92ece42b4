export { generateJava } from './generate';
export type { GeneratedJavaFile, JavaGenerationResult } from './generate';
export { camel, pascal, packageSegment } from './names';
