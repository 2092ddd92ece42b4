import { App, Duration, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { asyncInvokeConfigsOf, eventInvokeConfigFromResource } from '../../../../localstack/cloud/lambda/event-invoke-config';
import { checkSupported } from '../../../../localstack/cloud/local-cloud';
import { resolveTemplate, type CloudAssembly, type RawTemplate } from '../../../../localstack/cloud/template';
import { UnsupportedResourceError, type ResolvedResource } from '../../../../localstack/cloud/types';
import { FAILURES, FUNCTION } from './helpers';

function resource(properties: Record<string, unknown>): ResolvedResource {
  return { logicalId: 'FnEventInvokeConfig', type: 'AWS::Lambda::EventInvokeConfig', properties, physicalId: 'x', attributes: {} };
}

function assembly(resources: RawTemplate['Resources']): CloudAssembly {
  return { directory: '/tmp', stackName: 'S', template: { Resources: resources }, assetDirs: new Map() };
}

const fnAndQueue: RawTemplate['Resources'] = {
  Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: FUNCTION } },
  Failures: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'finalizer-failures' } },
};

describe('Function: eventInvokeConfigFromResource', () => {
  it('should read retries, age and destinations', () => {
    const found = eventInvokeConfigFromResource(
      resource({
        FunctionName: FUNCTION,
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: FAILURES } },
      }),
    );

    expect(found).toEqual({ functionName: FUNCTION, config: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600, onFailure: FAILURES } });
  });

  it('should apply AWS’s defaults for what is not set', () => {
    expect(eventInvokeConfigFromResource(resource({ FunctionName: `arn:aws:lambda:us-east-1:0:function:${FUNCTION}`, Qualifier: '$LATEST' }))).toEqual({
      functionName: FUNCTION,
      config: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 },
    });
  });

  it('should refuse Lambda, SNS and EventBridge destinations with the reason', () => {
    for (const destination of [
      'arn:aws:lambda:us-east-1:000000000000:function:other',
      'arn:aws:sns:us-east-1:000000000000:topic',
      'arn:aws:events:us-east-1:000000000000:event-bus/default',
    ]) {
      const config = resource({ FunctionName: FUNCTION, Qualifier: '$LATEST', DestinationConfig: { OnFailure: { Destination: destination } } });
      expect(() => eventInvokeConfigFromResource(config)).toThrow(UnsupportedResourceError);
      expect(() => eventInvokeConfigFromResource(config)).toThrow(/FnEventInvokeConfig .*OnFailure destination .*only SQS queue destinations run locally/);
    }
  });

  it('should refuse a version or alias qualifier, which never runs locally', () => {
    expect(() => eventInvokeConfigFromResource(resource({ FunctionName: FUNCTION, Qualifier: 'live' }))).toThrow(/qualifier live .*only \$LATEST/);
  });

  it('should refuse values outside Lambda’s ranges and FIFO queues', () => {
    expect(() => eventInvokeConfigFromResource(resource({ FunctionName: FUNCTION, Qualifier: '$LATEST', MaximumRetryAttempts: 3 }))).toThrow(/MaximumRetryAttempts/);
    expect(() => eventInvokeConfigFromResource(resource({ FunctionName: FUNCTION, Qualifier: '$LATEST', MaximumEventAgeInSeconds: 59 }))).toThrow(/MaximumEventAgeInSeconds/);
    expect(() =>
      eventInvokeConfigFromResource(resource({ FunctionName: FUNCTION, Qualifier: '$LATEST', DestinationConfig: { OnFailure: { Destination: `${FAILURES}.fifo` } } })),
    ).toThrow(/FIFO/);
  });
});

describe('Function: asyncInvokeConfigsOf', () => {
  it('should refuse a destination queue or a function that is not in the template', () => {
    const outside = resolveTemplate(
      assembly({
        ...fnAndQueue,
        Config: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Fn' }, Qualifier: '$LATEST', DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:elsewhere' } } } },
      }),
    );
    expect(() => asyncInvokeConfigsOf(outside)).toThrow(/elsewhere is not a queue of the template/);

    const noFunction = resolveTemplate(assembly({ ...fnAndQueue, Config: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: 'ghost', Qualifier: '$LATEST' } } }));
    expect(() => asyncInvokeConfigsOf(noFunction)).toThrow(/ghost is not a function of the template/);
  });

  it('should refuse two configurations of one function', () => {
    const config = { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Fn' }, Qualifier: '$LATEST' } };
    expect(() => asyncInvokeConfigsOf(resolveTemplate(assembly({ ...fnAndQueue, A: config, B: config })))).toThrow(/already has an EventInvokeConfig/);
  });
});

describe('Function: checkSupported', () => {
  it('should stand up what Function.configureAsyncInvoke with an SqsDestination synthesizes', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '000000000000', region: 'us-east-1' } });
    const fn = new LambdaFunction(stack, 'Finalizer', { functionName: FUNCTION, runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler=async()=>({})') });
    const failures = new Queue(stack, 'FinalizerFailures', { encryption: QueueEncryption.SQS_MANAGED });
    fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new SqsDestination(failures) });
    const synthesized = assembly((app.synth().getStackByName('S').template as RawTemplate).Resources);

    expect(() => { checkSupported(synthesized); }).not.toThrow();
    const resolved = resolveTemplate(synthesized);
    const queueArn = [...resolved.resources.values()].find((r) => r.type === 'AWS::SQS::Queue')!.attributes.Arn;
    expect(asyncInvokeConfigsOf(resolved)).toEqual([{ functionName: FUNCTION, config: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 3600, onFailure: queueArn } }]);
  });

  it('should stop start-up on a destination the local cloud cannot deliver to, naming the resource', () => {
    const config = {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: { FunctionName: { Ref: 'Fn' }, Qualifier: '$LATEST', DestinationConfig: { OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:alerts' } } },
    };
    expect(() => { checkSupported(assembly({ ...fnAndQueue, Config: config })); }).toThrow(UnsupportedResourceError);
    expect(() => { checkSupported(assembly({ ...fnAndQueue, Config: config })); }).toThrow(/Config \(AWS::Lambda::EventInvokeConfig\): OnFailure destination arn:aws:sns/);
  });
});
