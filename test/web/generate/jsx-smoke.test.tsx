// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';

afterEach(cleanup);

it('renders JSX in component tests', () => {
  render(<button type="button">Hello</button>);
  expect(screen.getByRole('button', { name: 'Hello' }).textContent).toBe('Hello');
});
