import { createInProcessEventBus } from '../../../src/events/in-process/in-process-event-bus.js';
import { eventBusContract } from '../../contract/event-bus-contract.js';

eventBusContract('in-process', async () => {
  const bus = createInProcessEventBus();
  return { bus, cleanup: () => bus.close() };
});
