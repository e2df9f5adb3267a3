import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiClient, issueToken } from '../api/client.js';
import type { Me, Role } from '../api/types.js';
import { expiryOf, renewDelay } from './renew-delay.js';
import { roleAtLeast } from './roles.js';
import { loadSession, type StoredSession, saveSession } from './stored-session.js';

export interface Session {
  user: { login: string; role: Role } | undefined;
  api: ApiClient;
  /** Why the last session ended when it was not signed out by hand (expired, refused). */
  endedBecause: string | undefined;
  signIn(login: string, password: string): Promise<void>;
  signOut(reason?: string): void;
  can(role: Role): boolean;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Renews the token a little before it expires, for as long as the tab is signed in. */
function useRenewal(
  session: StoredSession | undefined,
  api: ApiClient,
  update: (s: StoredSession) => void,
  end: (why: string) => void,
): void {
  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => {
      api
        .post<{ token: string; expiresIn: number }>('/rest/v1/token-auth/renew')
        .then((r) => update({ ...session, token: r.token, expiresAt: expiryOf(r.token, r.expiresIn) }))
        .catch((err: unknown) => end(`Your session could not be renewed: ${String(err)}`));
    }, renewDelay(session.expiresAt));
    return () => clearTimeout(timer);
  }, [session, api, update, end]);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<StoredSession | undefined>(() => loadSession());
  const [endedBecause, setEndedBecause] = useState<string | undefined>();
  const tokenRef = useRef(session?.token);

  const update = useCallback((s: StoredSession | undefined) => {
    tokenRef.current = s?.token;
    saveSession(s);
    setSession(s);
  }, []);
  const signOut = useCallback(
    (reason?: string) => {
      update(undefined);
      setEndedBecause(reason);
    },
    [update],
  );
  const api = useMemo(
    () =>
      new ApiClient(
        () => tokenRef.current,
        (message) => signOut(`Signed out: ${message}`),
      ),
    [signOut],
  );
  useRenewal(session, api, update, signOut);

  const signIn = useCallback(
    async (login: string, password: string) => {
      const issued = await issueToken(login, password);
      tokenRef.current = issued.token;
      let me: Me;
      try {
        me = await api.get<Me>('/rest/v1/me');
      } catch (err) {
        // An `api` user has a token but no console: nothing of it is kept.
        tokenRef.current = undefined;
        throw err;
      }
      setEndedBecause(undefined);
      update({
        token: issued.token,
        expiresAt: expiryOf(issued.token, issued.expiresIn),
        login: me.login,
        role: me.role,
      });
    },
    [api, update],
  );

  const value = useMemo<Session>(
    () => ({
      user: session ? { login: session.login, role: session.role } : undefined,
      api,
      endedBecause,
      signIn,
      signOut,
      can: (role) => (session ? roleAtLeast(session.role, role) : false),
    }),
    [session, api, endedBecause, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
