// WeChat Pay v2's XML: one flat <xml> (or <root>) element of text fields, each value in CDATA.
// Built and read with fast-xml-parser, never by string concatenation or regexes. Anything with a
// DOCTYPE is refused before parsing: WeChat never sends one, and it is how entity-expansion attacks
// arrive.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export class XmlFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlFormatError';
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false, // every value stays a string: "0100" is not 100
  trimValues: false,
  processEntities: false,
  cdataPropName: false,
  ignoreDeclaration: true,
});

const builder = new XMLBuilder({ cdataPropName: '__cdata', suppressEmptyNode: false, processEntities: false });

/** Reads `<xml>…</xml>` (or `<root>…</root>`) into its text fields. Throws XmlFormatError for anything else. */
export function parseV2Xml(text: string, root: 'xml' | 'root' = 'xml'): Record<string, string> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlFormatError('XML with a DOCTYPE or ENTITY is refused');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new XmlFormatError(`not well-formed XML (${(err as Error).message})`);
  }
  const body = (doc as Record<string, unknown> | null)?.[root];
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new XmlFormatError(`no <${root}> element of fields`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (v === '' || v === null) out[k] = '';
    else throw new XmlFormatError(`field ${k} is not text`);
  }
  return out;
}

/** `<xml>` with every value in CDATA (a value cannot contain "]]>"). */
export function buildV2Xml(fields: Record<string, string | number | undefined | null>, root: 'xml' | 'root' = 'xml'): string {
  const body: Record<string, { __cdata: string }> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    const s = String(v);
    if (s.includes(']]>')) throw new XmlFormatError(`field ${k} contains "]]>"`);
    body[k] = { __cdata: s };
  }
  return builder.build({ [root]: body }) as string;
}

/** The answer WeChat expects to a v2 notification, exactly. */
export const v2NotificationAnswer = (ok: boolean, message: string) =>
  buildV2Xml({ return_code: ok ? 'SUCCESS' : 'FAIL', return_msg: ok ? 'OK' : message });
