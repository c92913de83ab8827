import { alertMessage, alertsDue, type Banner, bannerFor } from '../core/alerts.js';
import { monthOfInstant } from '../core/calendar.js';
import { allowance as allowanceOf } from '../core/plans.js';
import { type RationalFigure, toFigure } from '../core/rational.js';
import type { Org } from '../core/types.js';
import { ALERT_KINDS, type AlertKind } from '../core/usage-state.js';
import type { DeliveryAttempt, NewDelivery, Store, StoredAlert } from '../store/store.js';
import { getUsage, type Usage } from '../usage/usage-service.js';

/** Where an org's alerts go: each billing contact by e-mail, and its webhook when it has one. */
export function deliveriesFor(org: Org): NewDelivery[] {
  const out: NewDelivery[] = org.billingEmails.map((target) => ({ channel: 'email', target }));
  if (org.webhookUrl) out.push({ channel: 'webhook', target: org.webhookUrl });
  return out;
}

function alertInput(org: Org, usage: Usage) {
  return {
    projected: usage.projected,
    toDate: usage.toDate,
    allowance: usage.allowance,
    activeAndInvited: usage.activeAndInvited,
    fairUseCap: org.fairUseCap,
  };
}

/**
 * Raises the alerts due for the org's month in progress (never for other months, so importing
 * history does not alert), each at most once per month and kind whatever other instances do at
 * the same moment. Called after every change that can move them: events, status changes, invites,
 * plan changes. Answers the alerts this call raised.
 */
export async function evaluateAlerts(store: Store, org: Org, now: number): Promise<StoredAlert[]> {
  const month = monthOfInstant(now, org.timezone);
  const raised = new Set<AlertKind>(await store.raisedAlertKinds(org.id, month));
  // Once every alert the org can get this month is raised, there is nothing to count.
  const possible = ALERT_KINDS.filter((kind) =>
    kind === 'cap_reached' ? org.fairUseCap !== null : allowanceOf(org.plan) !== null,
  );
  if (possible.every((kind) => raised.has(kind))) return [];
  // The daily counts are stored under both presences: reading the month is a few rows.
  const usage = await getUsage(store, org, month, now);
  if (usage.closed) return [];
  const out: StoredAlert[] = [];
  for (const facts of alertsDue(month, alertInput(org, usage))) {
    if (raised.has(facts.kind)) continue;
    const alert: StoredAlert = {
      id: `alt_${month}_${facts.kind}`,
      kind: facts.kind,
      month,
      figure: facts.figure,
      allowance: facts.limit,
      message: alertMessage(facts),
      createdAt: now,
    };
    if (await store.raiseAlert(org.id, alert, deliveriesFor(org))) out.push(alert);
  }
  return out;
}

/** The banner of the org's month in progress: what the dashboard's nag bar says, or null. */
export async function currentBanner(store: Store, org: Org, now: number): Promise<Banner | null> {
  const usage = await getUsage(store, org, monthOfInstant(now, org.timezone), now);
  return bannerFor(alertInput(org, usage));
}

/** An alert in the API's shape (SPEC.md section 6), with the webhook's body built from it. */
export interface AlertView {
  readonly id: string;
  readonly kind: AlertKind;
  readonly month: string;
  /** The figure that crossed the threshold, for display (two decimals). */
  readonly value: number;
  readonly figure: RationalFigure;
  /** The allowance, or for `cap_reached` the fair-use cap. */
  readonly allowance: number | null;
  readonly message: string;
  readonly createdAt: string;
}

export function alertView(alert: StoredAlert): AlertView {
  const figure = toFigure(alert.figure);
  return {
    id: alert.id,
    kind: alert.kind,
    month: alert.month,
    value: figure.value,
    figure,
    allowance: alert.allowance,
    message: alert.message,
    createdAt: new Date(alert.createdAt).toISOString(),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `GET /v1/orgs/{org}/alerts`: every alert with its deliveries and their attempts, and the banner. */
export async function alertsOf(store: Store, org: Org, now: number) {
  const [alerts, banner] = await Promise.all([store.listAlerts(org.id), currentBanner(store, org, now)]);
  return {
    alerts: alerts.map((a) => ({
      ...alertView(a),
      deliveries: a.deliveries.map((d) => ({
        channel: d.channel,
        target: d.target,
        status: d.status,
        attempts: d.attempts,
        lastError: d.lastError,
        nextAttemptAt: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
        log: d.log.map((entry: DeliveryAttempt) => ({ ...entry, at: iso(entry.at) })),
      })),
    })),
    banner,
  };
}
