import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, type OrgListEntry, type Session } from './api.js';
import { figure, planText, STATE_RANK, STATE_TEXT } from './format.js';
import { ErrorBox } from './org-page.js';

/**
 * A figure of the org's usage against its allowance (-1 without one): billable is shown per org;
 * projected orders orgs in the same state, since the state comes from the projection (an org over
 * by forecast ranks by how far over it will be).
 */
const perAllowance = (o: OrgListEntry, which: 'billable' | 'projected') =>
  o.usage.allowance === null || o.usage.allowance === 0 ? -1 : o.usage[which].value / o.usage.allowance;

/** The operator's overview: every org with billable against allowance, worst first. */
export function OperatorPage({
  session,
  onSignOut,
}: {
  session: Session;
  /** Back to the sign-in form, with the reason when the API refused the key. */
  onSignOut: (reason?: string) => void;
}) {
  const [orgs, setOrgs] = useState<OrgListEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    document.title = 'Organizations · seatmeter';
    getJson<{ orgs: OrgListEntry[] }>(session, '/v1/orgs')
      .then((r) =>
        setOrgs(
          [...r.orgs].sort(
            (a, b) =>
              STATE_RANK[a.usage.state] - STATE_RANK[b.usage.state] ||
              perAllowance(b, 'projected') - perAllowance(a, 'projected') ||
              (a.id < b.id ? -1 : 1),
          ),
        ),
      )
      .catch((e: Error) => {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) onSignOut(e.message);
        else setError(e.message);
      });
  }, [session, onSignOut]);
  if (error) return <ErrorBox message={error} />;
  if (!orgs) return <p class="loading">Loading…</p>;
  return (
    <main>
      <header class="page-head">
        <div>
          <p class="eyebrow">Operator</p>
          <h1>Organizations</h1>
          <p class="muted">This month's billable licences against each allowance, worst first.</p>
        </div>
        <div class="head-actions">
          <button type="button" onClick={() => onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <section class="panel">
        <div class="table-wrap">
          <table data-testid="orgs">
            <thead>
              <tr>
                <th scope="col">Organization</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Billable
                </th>
                <th scope="col" class="num">
                  Allowance
                </th>
                <th scope="col">Usage</th>
                <th scope="col">Plan</th>
              </tr>
            </thead>
            <tbody>
              {orgs.map((o) => {
                const share = perAllowance(o, 'billable');
                return (
                  <tr key={o.id} data-org={o.id}>
                    <td>
                      <a href={`/dashboard/orgs/${encodeURIComponent(o.id)}`}>{o.name}</a>
                      <span class="muted small"> {o.id}</span>
                    </td>
                    <td>
                      <span class={`pill tone-${o.usage.state}`}>{STATE_TEXT[o.usage.state]}</span>
                    </td>
                    <td class="num">{figure(o.usage.billable)}</td>
                    <td class="num">{o.usage.allowance ?? 'Unlimited'}</td>
                    <td>
                      {share >= 0 && (
                        <meter
                          min={0}
                          max={1.5}
                          low={0.95}
                          high={1}
                          optimum={0.5}
                          value={Math.min(share, 1.5)}
                        >
                          {Math.round(share * 100)} %
                        </meter>
                      )}
                      <span class="small"> {share >= 0 ? `${Math.round(share * 100)} %` : ''}</span>
                    </td>
                    <td class="small">{planText(o.plan)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </main>
  );
}
