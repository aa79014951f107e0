import type { AssetDetail, RunView } from './detail-api';
import { parameterRows } from './parameters';

/** Every parameter as a description list. */
export function ParameterList({ detail, run }: { detail: AssetDetail; run: RunView | undefined }) {
  return (
    <dl className="parameters" data-testid="parameters">
      {parameterRows(detail, run).map((row) => (
        <div key={row.label} className={row.long ? 'param long' : 'param'}>
          <dt>{row.label}</dt>
          <dd>{row.value}</dd>
        </div>
      ))}
    </dl>
  );
}
