export { generateJava } from './generate';
;
export { camel, pascal,  } from './names';
