export { signWebhook, verifyWebhookSignature } from './alerts/signature.js';
export * from './core/index.js';
