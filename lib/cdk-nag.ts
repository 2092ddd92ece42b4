// cdk-nag is CommonJS with re-exports Node's ESM loader cannot see by name; take them off the default export.
import cdkNag from 'cdk-nag';

export const { AwsSolutionsChecks } = cdkNag;
