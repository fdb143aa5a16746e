// Consumes Auth0 tenant log events: Management API `GET /api/v2/logs` objects and the Log Streams
// envelope `{"log_id": …, "data": {…}}`. Emits one TokenEvent per token exchange, refresh-token
// revocation, rotation reuse or logout; every other documented event type is skipped. Auth0 logs no
// refresh-token id: a rotating token is named `<familyId>#<tokenCounter>`, its position in its family.
// Pure, never throws; a type code this parser does not know (Auth0 adds codes) is skipped as
// `unknown_event_type`: it carries no token event we understand, and the record is not broken.
import { isObject, num, obj, str, type JsonObject } from '../fields.js';
import { fail, guard, skip, type ParseResult } from '../parse-result.js';
import type { TokenEvent, TokenEventType } from '../model.js';
import { isoToMs } from '../time.js';
import { UNKNOWN_EVENT_TYPE, blankTokenEvent, boundedId, boundedText, idField } from './idp-fields.js';
import type { IdpParser } from './types.js';

// Successful exchanges for tokens, from the per-type schemas of github.com/auth0/auth0-log-schemas
// (schemas/log-types/*.schema.json) and the "Log Event Type Codes" page.
const ISSUED = new Set([
  'seacft', 'seccft', 'sepft', 'seoobft', 'seotpft', 'sercft', 'sede', 'sens', 'secte', 'sepkoobft',
  'sepkotpft', 'sepkrcft', 'sdeleacft', 'ciba_exchange_succeeded', 'success_on_behalf_of_token_exchange',
  'idjag_exchange_succeeded',
]);

// Their failed twins, and the failed refresh-token exchange.
const FAILED = new Set([
  'feacft', 'feccft', 'fepft', 'feoobft', 'feotpft', 'fercft', 'fede', 'fens', 'fecte', 'fepotpft',
  'fdeleacft', 'fertft', 'ciba_exchange_failed', 'failed_on_behalf_of_token_exchange', 'idjag_exchange_failed',
  'jwt_bearer_exchange_failed',
]);

// Every other documented code: logins, signups, MFA, management and tenant events. Two token-shaped ones
// are here on purpose: `seta`/`feta` exchange an Auth0 token for a third party's (Token Vault), which
// no gateway of ours sees; `flo` is a failed logout, after which the session still stands.
const NO_TOKEN = new Set([
  'acls_summary', 'actions_execution_failed', 'acul_sdk_notice', 'api_limit', 'api_limit_warning', 'appi',
  'ciba_start_failed', 'ciba_start_succeeded', 'cls', 'connected_accounts_connection_failed',
  'connected_accounts_connection_succeeded', 'connected_accounts_delete_failed', 'connected_accounts_delete_succeeded',
  'cs', 'custom_domain_verification_failed', 'depnote', 'directory_sync_completed', 'directory_sync_failed',
  'directory_sync_started', 'f', 'fce', 'fco', 'fcoa', 'fcp', 'fcph', 'fcpn', 'fcpr', 'fcpro', 'fcu', 'fd', 'fdeac',
  'fdeaz', 'fdecc', 'fdelsa', 'fdu', 'federated_logout_failed', 'feta', 'fi', 'flo', 'flows_execution_completed',
  'flows_execution_failed', 'fn', 'forms_submission_failed', 'forms_submission_succeeded', 'fp', 'fpar', 'fpurh', 'fs',
  'fsa', 'fscim', 'fu', 'fui', 'fv', 'fvr', 'gd_auth_email_verification', 'gd_auth_failed', 'gd_auth_rejected',
  'gd_auth_succeed', 'gd_enrollment_complete', 'gd_otp_rate_limit_exceed', 'gd_recovery_failed', 'gd_recovery_succeed',
  'gd_send_email', 'gd_send_email_verification', 'gd_send_pn', 'gd_send_pn_failure', 'gd_send_sms',
  'gd_send_sms_failure', 'gd_send_voice', 'gd_send_voice_failure', 'gd_start_auth', 'gd_start_enroll',
  'gd_start_enroll_failed', 'gd_tenant_update', 'gd_unenroll', 'gd_update_device_account',
  'gd_webauthn_challenge_failed', 'gd_webauthn_enrollment_failed', 'kms_key_management_failure',
  'kms_key_management_success', 'kms_key_state_changed', 'limit_delegation', 'limit_mu', 'limit_phone', 'limit_sul',
  'limit_wc', 'mfar', 'mgmt_api_read', 'my_account_authentication_method_failed',
  'my_account_authentication_method_succeeded', 'oidc_backchannel_logout_failed', 'oidc_backchannel_logout_succeeded',
  'organization_member_added', 'passkey_challenge_failed', 'passkey_challenge_started', 'pla', 'pwd_leak',
  'reset_pwd_leak', 'resource_cleanup', 'rich_consents_access_error', 's', 'sapi', 'sce', 'scoa', 'scp', 'scpn', 'scpr',
  'scu', 'scv', 'sd', 'sdel', 'sdelsa', 'sdu', 'seta', 'si', 'ss', 'ss_sso_failure', 'ss_sso_info', 'ss_sso_success',
  'ssa', 'sscim', 'sui', 'sv', 'svr', 'ublkdu', 'universal_logout_failed', 'universal_logout_succeeded', 'w', 'wn', 'wum',
  // On the "Log Event Type Codes" page but without a schema in auth0-log-schemas.
  'fc', 'du', 'fapi', 'coff', 'con', 'admin_update_launch',
]);

const AUTH0_CODE = /^[a-z][a-z0-9_]*$/;

/** Auth0 tenant logs, from the Management API or a Log Stream. */
export const auth0Parser: IdpParser = {
  format: 'auth0',

  // A lower-case type code beside `date` and `log_id` (every Auth0 log has both), or the Log Streams
  // envelope around one. Keycloak types are upper-case, the canonical format has `ts` and no `date`,
  // Okta has `eventType`; no gateway writes `log_id` with `date`.
  detect(record) {
    const log = isObject(record.data) && typeof record.log_id === 'string' ? record.data : record;
    return typeof log.type === 'string' && AUTH0_CODE.test(log.type) && typeof log.date === 'string' && typeof log.log_id === 'string';
  },

  parse(record) {
    return guard((): ParseResult<TokenEvent> => {
      const log = 'data' in record && 'log_id' in record ? obj(record, 'data') : record;
      if (log === null) return fail('missing_field', 'data: missing');
      const type = str(log, 'type');
      if (type === null) return fail('missing_field', 'type: missing');
      const date = str(log, 'date');
      if (date === null) return fail('missing_field', 'date: missing');
      const ts = isoToMs(date);
      if (!AUTH0_CODE.test(type)) return fail('invalid_field', `type: not an Auth0 type code: ${JSON.stringify(type.slice(0, 64))}`);
      const details = obj(log, 'details') ?? {};

      const base = (kind: TokenEventType): TokenEvent => ({
        ...blankTokenEvent('auth0', kind, ts, type),
        // The refresh token's own session when the exchange used one, else the log's session.
        sessionId: idField(details, 'refresh_token.session_id') ?? idField(details, 'session_id'),
        // Empty for machine-to-machine flows (schema: "may contain an empty string"); str() reads "" as null.
        subject: idField(log, 'user_id'),
        clientId: idField(log, 'client_id'),
        ip: idField(log, 'ip'),
      });
      const failure = (): string | null => boundedText(str(log, 'description') ?? str(details, 'failure_reason'));

      if (ISSUED.has(type)) return ok({ ...base('issued'), tokenId: idField(details, 'access_token_jti') });
      if (type === 'sertft') {
        // The log is about the exchange of the presented token, so its counter names the parent; the
        // new token's counter is not logged (and with a reuse interval two children can share a parent).
        return ok({ ...base('refreshed'), tokenId: idField(details, 'access_token_jti'), parentRefreshTokenId: familyMember(details) });
      }
      if (type === 'ferrt') {
        // "Failed Exchange of Rotating Refresh Token. This could occur when reuse is detected": the
        // presented token (tokenCounter) is older than the family's latest (latestCounter), and Auth0
        // has revoked the whole family ("Reused rotating refresh token detected, revoked the family").
        return ok({ ...base('reuse_detected'), refreshTokenId: familyMember(details), reason: failure() });
      }
      if (FAILED.has(type)) return ok({ ...base('error'), reason: failure() });
      if (type === 'srrt') {
        // details.credential_id is the revoked refresh token's credential id (required by the schema).
        return ok({ ...base('revoked'), refreshTokenId: idField(details, 'credential_id') });
      }
      if (type === 'slo') return ok(base('logout'));
      if (NO_TOKEN.has(type)) return skip('no_token_event', `auth0 ${type} carries no token event`);
      return skip(UNKNOWN_EVENT_TYPE);
    });
  },
};

/** `<familyId>#<tokenCounter>` of a rotating refresh token; null unless the log names both. */
function familyMember(details: JsonObject): string | null {
  const family = str(details, 'familyId');
  const counter = num(details, 'tokenCounter');
  return family === null || counter === null ? null : boundedId(`${family}#${counter}`, 'details.familyId');
}

function ok(event: TokenEvent): ParseResult<TokenEvent> {
  return { ok: true, event };
}
