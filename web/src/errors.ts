// API errors as users should read them: the codes the server promises
// (extensions.code) get a sentence of their own, with the server's message after it.
import { GraphQLError } from './api';
import { t } from './i18n';

/** Field names an INVALID_INPUT error points at (extensions.field / fields). */
export function errorFields(e: unknown): string[] {
  if (!(e instanceof GraphQLError)) return [];
  const f = e.extensions.fields ?? e.extensions.field;
  if (Array.isArray(f)) return f.map(String);
  if (typeof f === 'string' && f) return [f];
  return [];
}

export function errorCode(e: unknown): string {
  return e instanceof GraphQLError ? e.code ?? '' : '';
}

export function errorText(e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  if (!(e instanceof GraphQLError)) return msg;
  const fields = errorFields(e);
  switch (e.code) {
    case 'ACTION_REFUSED': return /^Asterisk refused/i.test(msg) ? t('Asterisk refused: {msg}', { msg: msg.replace(/^Asterisk refused\s*/i, '') }) : t('Asterisk refused: {msg}', { msg });
    case 'NO_OPERATOR': return t('Your user is not linked to an operator here; ask an administrator. ({msg})', { msg });
    case 'INVALID_INPUT':
    case 'BAD_USER_INPUT':
    case 'GRAPHQL_VALIDATION_FAILED':
      return fields.length ? t('Invalid {fields}: {msg}', { fields: fields.join(', '), msg }) : t('Invalid input: {msg}', { msg });
    case 'FORBIDDEN': return t('You are not allowed to do this: {msg}', { msg });
    case 'NOT_FOUND': return t('Not found: {msg}', { msg });
    case 'CONFLICT': return t('Conflicts with existing data: {msg}', { msg });
    case 'RATE_LIMITED': return t('Too many attempts. Try again later.');
    case 'SERVER_OFFLINE': return t('The Asterisk server is not connected: {msg}', { msg });
    case 'UNAVAILABLE': return t('Not available on this server: {msg}', { msg });
  }
  return msg;
}
