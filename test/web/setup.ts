import { configure } from '@testing-library/react';

// findBy…/waitFor give up after 1 s by default. A screen here waits on lazy chunks and stubbed
// fetches that resolve in a few ms alone, but take longer while the browser tests share the
// cores; waiting on the condition longer costs nothing when it holds at once.
configure({ asyncUtilTimeout: 5_000 });
