import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { OpenApiDocument } from './schema-check';

let cached: Promise<OpenApiDocument> | undefined;

/** The server's OpenAPI document (fetched once per page load): the request schemas to check against. */
export function useOpenApi(): OpenApiDocument | undefined {
  const [doc, setDoc] = useState<OpenApiDocument>();
  useEffect(() => {
    let live = true;
    cached ??= api<OpenApiDocument>('/openapi.json').catch((error: unknown) => {
      cached = undefined; // try again on the next visit
      throw error;
    });
    cached.then((value) => live && setDoc(value)).catch(() => undefined); // unchecked: the server still validates
    return () => {
      live = false;
    };
  }, []);
  return doc;
}
