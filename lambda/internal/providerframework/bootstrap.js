// A minimal Lambda runtime interface client for Node.js, standing in for the
// Lambda Node.js runtime that runs aws-cdk-lib's Provider framework functions:
// it loads the handler named by _HANDLER ("framework.onEvent") from
// LAMBDA_TASK_ROOT and serves invocations through the Runtime API at
// AWS_LAMBDA_RUNTIME_API (next, response, error), reporting errors the way the
// Node.js runtime does ({errorType, errorMessage, trace}) and logging them, as
// the Lambda Developer Guide says the error document appears in the
// invocation log ("AWS Lambda function errors in Node.js").
//
// One thing differs from Lambda, by design: every https connection is routed
// to the local stand-in of the pre-signed S3 response URL
// (PROVIDERFRAMEWORK_RESPONSE_ADDR, "127.0.0.1:port"), TLS and certificate
// check included (NODE_EXTRA_CA_CERTS), because cfn-response.js PUTs to the
// URL's host on port 443. Hosts other than PROVIDERFRAMEWORK_RESPONSE_HOST are
// refused, so nothing leaves the machine.
'use strict';
const http = require('http');
const https = require('https');
const path = require('path');
const tls = require('tls');

if (process.env.PROVIDERFRAMEWORK_RESPONSE_ADDR) {
  const [responseIP, responsePort] = process.env.PROVIDERFRAMEWORK_RESPONSE_ADDR.split(':');
  const responseHost = process.env.PROVIDERFRAMEWORK_RESPONSE_HOST;
  class LoopbackAgent extends https.Agent {
    createConnection(options, callback) {
      const host = options.servername || options.host;
      if (host !== responseHost) {
        throw new Error(`refusing an https connection to ${host}: only ${responseHost} is emulated`);
      }
      return tls.connect({ ...options, host: responseIP, port: Number(responsePort), servername: host }, callback);
    }
  }
  https.globalAgent = new LoopbackAgent({ keepAlive: false });
}

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [file, name] = process.env._HANDLER.split('.');

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = http.request({ host, port, method, path: '/2018-06-01/runtime/' + urlPath, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDoc(e) {
  const err = e instanceof Error ? e : new Error(String(e));
  return JSON.stringify({ errorType: err.name, errorMessage: err.message, trace: String(err.stack || '').split('\n') });
}

async function main() {
  let handler;
  try {
    handler = require(path.join(process.env.LAMBDA_TASK_ROOT, file))[name];
    if (typeof handler !== 'function') throw new Error(`${process.env._HANDLER} is not a function`);
  } catch (e) {
    await call('POST', 'init/error', errorDoc(e), { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', 'invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    try {
      const result = await handler(JSON.parse(next.body), { awsRequestId: id });
      await call('POST', `invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      console.error('Invoke Error', errorDoc(e));
      await call('POST', `invocation/${id}/error`, errorDoc(e), { 'Lambda-Runtime-Function-Error-Type': e && e.name || 'Error' });
    }
  }
}

main().catch((e) => { console.error('runtime client failed', e); process.exit(2); });
