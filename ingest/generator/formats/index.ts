// Every format renderer, so generators, tests and benchmarks cover each supported format.
import type { GatewayRenderer, IdpRenderer } from '../types.js';
import { kongRenderer } from './kong.js';
import { tykRenderer } from './tyk.js';
import { awsApigwRenderer } from './aws-apigw.js';
import { traefikRenderer } from './traefik.js';
import { envoyRenderer } from './envoy.js';
import { nginxRenderer } from './nginx.js';
import { keycloakRenderer } from './keycloak.js';
import { auth0Renderer } from './auth0.js';
import { oktaRenderer } from './okta.js';

export const GATEWAY_RENDERERS: readonly GatewayRenderer[] = [kongRenderer, tykRenderer, awsApigwRenderer, traefikRenderer, envoyRenderer, nginxRenderer];
export const IDP_RENDERERS: readonly IdpRenderer[] = [keycloakRenderer, auth0Renderer, oktaRenderer];
