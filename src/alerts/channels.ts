import nodemailer from 'nodemailer';
import type { Org } from '../core/types.js';
import type { ClaimedDelivery } from '../store/store.js';
import { alertView } from './alerts-service.js';
import { signWebhook } from './signature.js';

/** Sends one delivery; throws with a readable reason when it did not go through. */
export interface Sender {
  send(delivery: ClaimedDelivery, org: Org): Promise<void>;
}

export interface SenderOptions {
  /** `smtp://user:pass@host:port` (env `SEATMETER_SMTP_URL`); without it e-mail deliveries fail. */
  readonly smtpUrl?: string | undefined;
  /** The sender address (env `SEATMETER_MAIL_FROM`). */
  readonly mailFrom?: string | undefined;
  /**
   * Give up on one send (a webhook call, an SMTP conversation) after this long (default 10 s).
   * It must stay well under the outbox's claim lease, or another instance could send it again.
   */
  readonly sendTimeoutMs?: number;
  /** Seconds since the epoch, for signatures; the system clock by default. */
  readonly nowSeconds?: () => number;
}

const KIND_TITLES = {
  approaching: 'approaching its licences',
  breach: 'over its licences',
  cap_reached: 'at its fair-use cap',
} as const;

/** The e-mail of an alert: a plain-text message a billing contact can act on. */
export function alertEmail(org: Org, delivery: ClaimedDelivery) {
  const alert = alertView(delivery.alert);
  return {
    subject: `[seatmeter] ${org.name} is ${KIND_TITLES[alert.kind]} (${alert.month})`,
    text: [
      `${org.name} (${org.id}), ${alert.month}:`,
      '',
      alert.message,
      '',
      `Alert ${alert.id}, ${alert.kind}, raised ${alert.createdAt}.`,
      alert.allowance === null ? '' : `Figure ${alert.value} against ${alert.allowance}.`,
    ]
      .join('\n')
      .trimEnd(),
  };
}

/** The webhook body of an alert (SPEC.md section 6). */
export function alertWebhookBody(org: Org, delivery: ClaimedDelivery): string {
  return JSON.stringify({ type: 'alert.raised', org: org.id, alert: alertView(delivery.alert) });
}

/** E-mail over SMTP with nodemailer, webhooks with fetch and a signature. */
export function createSender(options: SenderOptions): Sender & { close(): void } {
  const timeout = options.sendTimeoutMs ?? 10_000;
  const transport = options.smtpUrl
    ? nodemailer.createTransport({
        url: options.smtpUrl,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      })
    : undefined;
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  return {
    async send(delivery, org) {
      if (delivery.channel === 'email') {
        if (!transport) throw new Error('no SMTP server: set SEATMETER_SMTP_URL');
        const mail = alertEmail(org, delivery);
        await transport.sendMail({
          from: options.mailFrom ?? 'seatmeter <seatmeter@localhost>',
          to: delivery.target,
          // The same id on every attempt: a copy resent after a crash is recognisably the same mail.
          messageId: `<${delivery.id}.${delivery.orgId}@seatmeter>`,
          ...mail,
        });
        return;
      }
      if (!org.webhookSecret) throw new Error('the org has no webhook secret');
      const body = alertWebhookBody(org, delivery);
      const res = await fetch(delivery.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'seatmeter-webhooks',
          'seatmeter-signature': signWebhook(org.webhookSecret, nowSeconds(), body),
          // Stable across attempts, so a receiver can drop a copy resent after a crash.
          'seatmeter-delivery': delivery.id,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeout),
      });
      // Read the answer so the connection can be reused; its content does not matter.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered HTTP ${res.status}`);
    },
    close() {
      transport?.close();
    },
  };
}
