import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  type AlertsAnswer,
  downloadCsv,
  getJson,
  type InviteCheck,
  latest,
  type MembersList,
  type OrgView,
  orgPath,
  type ProjectUsage,
  postJson,
  query,
  type Session,
  type Usage,
} from './api.js';
import { DailyChart } from './chart.js';
import {
  chargeText,
  explain,
  figure,
  money,
  monthName,
  planText,
  reasonText,
  recentMonths,
  STATE_TEXT,
} from './format.js';

interface MonthData {
  usage: Usage;
  previous: Usage | null;
  projects: { projects: ProjectUsage[]; total: { members: number; billable: number } };
}

/** The page a customer's administrator opens under Organization > Billing (SPEC.md section 8). */
export function OrgPage({ session, orgId }: { session: Session; orgId: string }) {
  const base = orgPath(orgId);
  const [org, setOrg] = useState<OrgView | null>(null);
  const [currentMonth, setCurrentMonth] = useState<string | null>(null);
  const [month, setMonth] = useState<string | null>(null);
  const [data, setData] = useState<MonthData | null>(null);
  const [alerts, setAlerts] = useState<AlertsAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inviting, setInviting] = useState(false);

  useEffect(() => {
    Promise.all([
      getJson<OrgView>(session, base),
      getJson<Usage>(session, `${base}/usage`),
      getJson<AlertsAnswer>(session, `${base}/alerts`),
    ])
      .then(([o, usage, a]) => {
        setOrg(o);
        setCurrentMonth(usage.month);
        setMonth(usage.month);
        setAlerts(a);
        document.title = `${o.name} · Billing`;
      })
      .catch((e: Error) => setError(e.message));
  }, [session, base]);

  useEffect(() => {
    if (!month) return;
    const previousMonth = recentMonths(month, 2)[1] as string;
    return latest(
      Promise.all([
        getJson<Usage>(session, `${base}/usage${query({ month })}`),
        getJson<Usage>(session, `${base}/usage${query({ month: previousMonth })}`).catch(() => null),
        getJson<MonthData['projects']>(session, `${base}/usage/projects${query({ month })}`),
      ]),
      ([usage, previous, projects]) => setData({ usage, previous, projects }),
      (e) => setError(e.message),
    );
  }, [session, base, month]);

  if (error) return <ErrorBox message={error} />;
  if (!org || !month || !currentMonth || !data) return <p class="loading">Loading…</p>;
  const { usage, previous, projects } = data;
  const inProgress = usage.month === currentMonth;

  return (
    <main>
      <header class="page-head">
        <div>
          <p class="eyebrow">Organization · Billing</p>
          <h1>{org.name}</h1>
          <p class="muted">
            {planText(org.plan)} · billed on the{' '}
            {org.counting.aggregation === 'peak' ? 'highest daily count' : 'average of the daily counts'} ·{' '}
            {org.timezone}
          </p>
        </div>
        <div class="head-actions">
          <label class="field">
            <span>Month</span>
            <select
              value={month}
              onChange={(e) => setMonth((e.target as HTMLSelectElement).value)}
              data-testid="month"
            >
              {recentMonths(currentMonth, 12).map((m) => (
                <option value={m} key={m}>
                  {monthName(m)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="primary" onClick={() => setInviting(true)}>
            Invite a user…
          </button>
        </div>
      </header>

      {inProgress && alerts?.banner && (
        <div class={`banner ${alerts.banner.level}`} role="alert" data-testid="banner">
          <strong>{STATE_TEXT[alerts.banner.state]}.</strong> {alerts.banner.message}
        </div>
      )}

      <section class="cards" aria-label="Figures">
        <Card
          label="Seats today"
          value={usage.current === null ? '–' : String(usage.current)}
          note={inProgress ? 'held so far today' : 'month not in progress'}
          testid="seats-today"
        />
        <Card
          label={usage.closed ? 'Billed (closed)' : inProgress ? 'Billable to date' : 'Billable'}
          value={figure(usage.billable)}
          note={explain(usage.billable)}
          testid="billable"
        />
        <Card
          label="Projected"
          value={figure(usage.projected)}
          note={inProgress ? 'if the month goes on like this' : 'the month is over'}
          testid="projected"
        />
        <Card
          label="Allowance"
          value={usage.allowance === null ? 'Unlimited' : String(usage.allowance)}
          note={STATE_TEXT[usage.state]}
          tone={usage.state}
          testid="allowance"
        />
        <Card
          label="Charge"
          value={money(usage.charge.amount, usage.charge.currency)}
          note={`${chargeText(usage)} · ${usage.closed ? 'final' : 'so far'}`}
          testid="charge"
        />
        <Card
          label={`Last month (${previous ? monthName(previous.month) : '–'})`}
          value={previous ? figure(previous.billable) : '–'}
          note={previous?.closed ? 'closed' : 'open'}
          testid="last-month"
        />
      </section>
      {usage.lateEvents > 0 && (
        <p class="muted">
          {usage.lateEvents} events arrived after this month closed; they do not change its statement.
        </p>
      )}

      <section class="panel">
        <h2>Daily seats in {monthName(usage.month)}</h2>
        <DailyChart usage={usage} />
      </section>

      <section class="panel">
        <h2>Members per project</h2>
        <div class="table-wrap">
          <table data-testid="projects">
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col" class="num">
                  Members
                </th>
                <th scope="col" class="num">
                  Held a seat
                </th>
              </tr>
            </thead>
            <tbody>
              {projects.projects.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}</td>
                  <td class="num">{p.members}</td>
                  <td class="num">{p.billable}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All members (each once)</th>
                <td class="num">{projects.total.members}</td>
                <td class="num">{projects.total.billable}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      </section>

      <MembersPanel session={session} base={base} orgId={org.id} month={month} />

      {inviting && <InviteDialog session={session} base={base} onClose={() => setInviting(false)} />}
    </main>
  );
}

function Card(props: { label: string; value: string; note: string; tone?: string; testid: string }) {
  return (
    <div class={`card ${props.tone ? `tone-${props.tone}` : ''}`} data-testid={props.testid}>
      <span class="card-label">{props.label}</span>
      <span class="card-value">{props.value}</span>
      <span class="card-note">{props.note}</span>
    </div>
  );
}

export function ErrorBox({ message }: { message: string }) {
  return (
    <main>
      <div class="banner error" role="alert">
        {message}
      </div>
    </main>
  );
}

type SortKey = 'id' | 'billable' | 'daysCounted' | 'status';

/** Members the table shows at first and adds per "Show more": a page the browser draws at once. */
const MEMBERS_PAGE = 500;

/** The members shown, with the query they were asked with. */
type ShownList = MembersList & { asked: Record<string, string | undefined> };

/**
 * The licensed members: filters by team, project and source, sortable, with the CSV download (of
 * every listed member, however many pages the table has shown).
 */
function MembersPanel({
  session,
  base,
  orgId,
  month,
}: {
  session: Session;
  base: string;
  orgId: string;
  month: string;
}) {
  const [team, setTeam] = useState('');
  const [project, setProject] = useState('');
  const [source, setSource] = useState('');
  const [all, setAll] = useState(false);
  const [options, setOptions] = useState<{ teams: string[]; projects: string[]; sources: string[] }>({
    teams: [],
    projects: [],
    sources: [],
  });
  const [list, setList] = useState<ShownList | null>(null);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'billable', dir: -1 });
  const [error, setError] = useState<string | null>(null);
  const filters = { month, team, project, source, all: all ? 'true' : undefined };

  // The filter choices: every team, project and source of the month's members, which the API
  // gives with any page of the list (one member is enough).
  useEffect(
    () =>
      latest(
        getJson<MembersList>(session, `${base}/usage/members${query({ month, all: 'true', limit: '1' })}`),
        (everyone) => setOptions(everyone.facets),
        (e) => setError(e.message),
      ),
    [session, base, month],
  );

  // The first page of the list, kept with the filters it was asked with: "Show more" asks for the
  // next page with those same filters, and appends it only to that same list (a filter changed
  // meanwhile replaces the list when its own first page arrives).
  useEffect(() => {
    const asked = { ...filters, limit: String(MEMBERS_PAGE) };
    return latest(
      getJson<MembersList>(session, `${base}/usage/members${query(asked)}`),
      (page) => setList({ ...page, asked }),
      (e) => setError(e.message),
    );
  }, [session, base, month, team, project, source, all]);
  const showMore = (shown: ShownList) => {
    if (shown.nextCursor === null) return;
    getJson<MembersList>(
      session,
      `${base}/usage/members${query({ ...shown.asked, cursor: shown.nextCursor })}`,
    ).then(
      (page) =>
        setList((current) =>
          current === shown
            ? { ...page, members: [...shown.members, ...page.members], asked: shown.asked }
            : current,
        ),
      (e: Error) => setError(e.message),
    );
  };

  const rows = useMemo(() => {
    if (!list) return [];
    const value = (m: MembersList['members'][number]) =>
      sort.key === 'id'
        ? (m.name ?? m.id).toLowerCase()
        : sort.key === 'status'
          ? (m.status ?? '')
          : Number(m[sort.key]);
    return [...list.members].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      return (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1) * sort.dir;
    });
  }, [list, sort]);

  const header = (key: SortKey, label: string, numeric = false) => {
    const active = sort.key === key;
    return (
      <th
        scope="col"
        class={numeric ? 'num' : ''}
        aria-sort={active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
      >
        <button
          type="button"
          class="sort"
          onClick={() => setSort({ key, dir: active ? (sort.dir === 1 ? -1 : 1) : key === 'id' ? 1 : -1 })}
        >
          {label}
          <span aria-hidden="true">{active ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
        </button>
      </th>
    );
  };

  const select = (
    label: string,
    value: string,
    set: (v: string) => void,
    choices: string[],
    testid: string,
  ) => (
    <label class="field">
      <span>{label}</span>
      <select value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)} data-testid={testid}>
        <option value="">All</option>
        {choices.map((c) => (
          <option value={c} key={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section class="panel">
      <div class="panel-head">
        <h2>Licensed members</h2>
        <button
          type="button"
          onClick={() =>
            downloadCsv(
              session,
              `${base}/usage/members${query({ ...filters, format: 'csv' })}`,
              `${orgId}-${month}-members.csv`,
            ).catch((e: Error) => setError(e.message))
          }
        >
          Download CSV
        </button>
      </div>
      <div class="filters">
        {select('Team', team, setTeam, options.teams, 'filter-team')}
        {select('Project', project, setProject, options.projects, 'filter-project')}
        {select('Source', source, setSource, options.sources, 'filter-source')}
        <label class="check">
          <input
            type="checkbox"
            checked={all}
            onChange={(e) => setAll((e.target as HTMLInputElement).checked)}
          />
          <span>Show members without a seat</span>
        </label>
      </div>
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {list && (
        <p class="muted" data-testid="members-totals" aria-live="polite">
          {list.totals.members} listed, {list.totals.billable} billable
          {list.members.length < list.totals.members &&
            ` (showing ${list.members.length}; sorting applies to those shown)`}
        </p>
      )}
      <div class="table-wrap tall">
        <table data-testid="members">
          <thead>
            <tr>
              {header('id', 'Member')}
              {header('status', 'Status')}
              {header('billable', 'Billable')}
              <th scope="col">Why</th>
              {header('daysCounted', 'Days', true)}
              <th scope="col">Teams</th>
              <th scope="col">Projects</th>
              <th scope="col">Sources</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-member={m.id}>
                <td>
                  <span class="strong">{m.name ?? m.id}</span>
                  {m.email && <span class="muted small"> {m.email}</span>}
                  {m.kind === 'shared' && <span class="tag">shared</span>}
                </td>
                <td>{m.status ?? '–'}</td>
                <td>{m.billable ? <span class="yes">Yes</span> : <span class="no">No</span>}</td>
                <td>{reasonText(m.reason, m.daysCounted)}</td>
                <td class="num">{m.daysCounted}</td>
                <td>{m.teams.join(', ')}</td>
                <td>{m.projects.join(', ')}</td>
                <td>
                  {Object.entries(m.sources)
                    .map(([s, n]) => `${s} ${n}`)
                    .join(', ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list?.nextCursor && (
        <button type="button" data-testid="members-more" onClick={() => showMore(list)}>
          Show {Math.min(MEMBERS_PAGE, list.totals.members - list.members.length)} more
        </button>
      )}
    </section>
  );
}

const DECISION_TEXT: Record<InviteCheck['decision'], string> = {
  ok: 'Fine to invite',
  warning: 'Warning: close to the allowance',
  breach: 'This invite goes over the allowance',
  blocked: 'Blocked: the fair-use cap is reached',
};

/** The invite dialog: seat usage before and after, and the decision, before anyone is invited. */
function InviteDialog({ session, base, onClose }: { session: Session; base: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [email, setEmail] = useState('');
  const [check, setCheck] = useState<InviteCheck | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = (e: Event) => {
    e.preventDefault();
    setError(null);
    setCheck(null);
    postJson<InviteCheck>(session, `${base}/invites/check`, { email })
      .then(setCheck)
      .catch((err: Error) => setError(err.message));
  };
  return (
    <dialog ref={dialog} onClose={onClose} aria-labelledby="invite-title" class="dialog">
      <form onSubmit={submit}>
        <h2 id="invite-title">Invite a user</h2>
        <label class="field">
          <span>E-mail</span>
          <input
            type="email"
            required
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
            placeholder="name@example.com"
          />
        </label>
        {error && (
          <p class="banner error" role="alert">
            {error}
          </p>
        )}
        {check && (
          <div class={`decision decision-${check.decision}`} role="status" data-testid="decision">
            <strong>{DECISION_TEXT[check.decision]}</strong>
            <p>
              Seats today: {check.seats} → after this invite: {check.after}
              {check.allowance === null ? ' (no allowance limit)' : ` of ${check.allowance}`}
              {check.percent === null ? '' : ` (${check.percent} %)`}
            </p>
            <p>{check.message}</p>
          </div>
        )}
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Close
          </button>
          <button type="submit" class="primary">
            Check seats
          </button>
        </div>
      </form>
    </dialog>
  );
}
