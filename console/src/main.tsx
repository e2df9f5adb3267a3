import '@mantine/core/styles.css';
import { Alert, type CSSVariablesResolver, createTheme, MantineProvider, Modal } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app.js';
import { SessionProvider } from './session/session.js';

// System fonts only: nothing is fetched from the internet.
const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: 8,
  respectReducedMotion: true,
  components: {
    // Alert titles in the colour of their alert are too light to read on its light background.
    Alert: Alert.extend({ styles: { title: { color: 'var(--mantine-color-black)' } } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});

// Dimmed text (field descriptions) and error text dark enough for a 4.5:1 contrast on white.
const resolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
  },
  dark: {},
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={resolver}>
      <BrowserRouter>
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </MantineProvider>
  </StrictMode>,
);
