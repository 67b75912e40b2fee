// Every answer the test suite receives from the API is checked against the OpenAPI document: a status
// the document does not list for the route, or a JSON body that does not fit its schema, fails the test
// that received it. Used by the helpers' request functions (helpers.ts, system-process.ts).
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../src/http/openapi';

const doc = openApiDocument() as any;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'doc', components: doc.components });
const ROUTES = Object.keys(doc.paths).map((template) => ({
  template,
  re: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
const refs = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));

/** Throws when the answer is not what the document says this route answers. */
export function checkAgainstOpenApi(method: string, url: string, status: number, body: unknown, contentType: string | null): void {
  const p = new URL(url, 'http://x').pathname;
  if (!p.startsWith('/api/') && p !== '/metrics') return; // the H5 client's pages and files
  const route = ROUTES.find((r) => r.re.test(p));
  if (!route) {
    if (status === 404 || status === 405) return; // an unknown path, answered as such
    throw new Error(`OpenAPI: ${method} ${p} is not in the document (answered ${status})`);
  }
  const operation = doc.paths[route.template][method.toLowerCase()];
  if (!operation) {
    if (status === 404 || status === 405) return;
    throw new Error(`OpenAPI: ${method} ${route.template} is not in the document (answered ${status})`);
  }
  const response = operation.responses[String(status)];
  if (!response)
    throw new Error(
      `OpenAPI: ${method} ${route.template} answered ${status}, which the document does not list (${Object.keys(operation.responses).join(', ')})`,
    );
  const schema = response.content?.['application/json']?.schema;
  if (!schema || !contentType?.includes('application/json')) return;
  const key = `${method} ${route.template} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(refs(schema) as object);
    compiled.set(key, validate);
  }
  if (!validate(body))
    throw new Error(
      `OpenAPI: ${key} body does not fit the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    );
}
