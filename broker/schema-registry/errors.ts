// Confluent Schema Registry's error answers: HTTP status plus `{"error_code": …, "message": …}`, with the
// codes its clients switch on (io.confluent.kafka.schemaregistry.rest.exceptions.Errors).
import { ApiError } from '../http/api-error.ts';
export class SrError extends ApiError {}

export const subjectNotFound = (s: string) => new SrError(404, 40401, `Subject '${s}' not found.`);
export const versionNotFound = (v: string | number) => new SrError(404, 40402, `Version ${v} not found.`);
export const schemaNotFound = (what = 'Schema not found') => new SrError(404, 40403, what);
export const subjectSoftDeleted = (s: string) =>
  new SrError(404, 40404, `Subject '${s}' was soft deleted.Set permanent=true to delete permanently`);
export const subjectNotSoftDeleted = (s: string) =>
  new SrError(404, 40405, `Subject '${s}' was not deleted first before being permanently deleted`);
export const versionSoftDeleted = (s: string, v: number) =>
  new SrError(404, 40406, `Subject '${s}' Version ${v} was soft deleted.Set permanent=true to delete permanently`);
export const versionNotSoftDeleted = (s: string, v: number) =>
  new SrError(404, 40407, `Subject '${s}' Version ${v} was not deleted first before being permanently deleted`);
export const compatibilityNotConfigured = (s: string) =>
  new SrError(404, 40408, `Subject '${s}' does not have subject-level compatibility configured`);
export const modeNotConfigured = (s: string) =>
  new SrError(404, 40409, `Subject '${s}' does not have subject-level mode configured`);
export const incompatible = (msg: string) => new SrError(409, 409, msg);
export const invalidSchema = (msg: string) => new SrError(422, 42201, `Invalid schema ${msg}`);
export const invalidVersion = (v: string) =>
  new SrError(422, 42202, `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
export const invalidCompatibility = (level: unknown) =>
  new SrError(422, 42203, `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got ${JSON.stringify(level)})`);
export const invalidMode = (mode: unknown) =>
  new SrError(422, 42204, `Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT (got ${JSON.stringify(mode)})`);
export const operationNotPermitted = (msg: string) => new SrError(422, 42205, msg);
export const referenceExists = (msg: string) => new SrError(422, 42206, msg);
export const idDoesNotMatch = (msg: string) => new SrError(422, 42207, msg);
export const invalidSubject = (s: string) => new SrError(422, 42208, `Invalid subject ${JSON.stringify(s)}`);
export const schemaTooLarge = (msg: string) => new SrError(422, 42209, `Schema too large: ${msg}`);
export const storeError = (msg: string) => new SrError(500, 50001, `Error while storing the schema: ${msg}`);
