import { render } from 'preact';
import { useCallback, useState } from 'preact/hooks';
import { rememberOperatorKey, type Session, sessionFromPage } from './api.js';
import { OperatorPage } from './operator-page.js';
import { OrgPage } from './org-page.js';
import './style.css';

/** The org of `/dashboard/orgs/{org}`, or null on the operator's overview (`/dashboard/`). */
function orgOfPath(): string | null {
  const m = /^\/dashboard\/orgs\/([^/]+)\/?$/.exec(location.pathname);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

/** Without a dashboard link, the operator signs in with the operator key (kept for this tab only). */
function SignIn({ onSignIn, refused }: { onSignIn: (key: string) => void; refused: string | null }) {
  const [key, setKey] = useState('');
  return (
    <main class="signin">
      <form
        class="panel"
        onSubmit={(e) => {
          e.preventDefault();
          onSignIn(key.trim());
        }}
      >
        <h1>seatmeter</h1>
        <p class="muted">
          Open an organization's page with its dashboard link, or sign in with the operator key.
        </p>
        {refused ? (
          <div class="banner error" role="alert">
            {refused}
          </div>
        ) : null}
        <label class="field">
          <span>Operator key</span>
          <input
            type="password"
            required
            autocomplete="off"
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(sessionFromPage);
  const [refused, setRefused] = useState<string | null>(null);
  const signOut = useCallback((reason?: string) => {
    rememberOperatorKey(null);
    setRefused(reason ?? null);
    setSession(null);
  }, []);
  const org = orgOfPath();
  if (!session) {
    return (
      <SignIn
        refused={refused}
        onSignIn={(key) => {
          rememberOperatorKey(key);
          setRefused(null);
          setSession(sessionFromPage());
        }}
      />
    );
  }
  if (org) return <OrgPage session={session} orgId={org} />;
  return <OperatorPage session={session} onSignOut={signOut} />;
}

render(<App />, document.getElementById('app') as HTMLElement);
