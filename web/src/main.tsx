import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { takeTokenFromUrl } from './auth/token';
import { applyTheme, storedTheme } from './features/theme/theme';
import './styles.css';

takeTokenFromUrl(window.location, window.history);
applyTheme(storedTheme());
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
