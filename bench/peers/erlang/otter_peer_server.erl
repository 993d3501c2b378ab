%% The gen_server used by the `call` and `restart` workloads.
%%
%%   start_link(plain)              a server that answers `ping` with `pong`
%%   start_link({announce, Driver}) the same, but init/1 first sends
%%                                  {child_started, self()} to Driver
%%                                  (the supervised child in `restart`)
-module(otter_peer_server).
-behaviour(gen_server).

-export([start_link/1, crash/1]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link(Arg) ->
    gen_server:start_link(?MODULE, Arg, []).

%% Make the server crash (an exit exception raised in its callback).
crash(Server) ->
    gen_server:cast(Server, crash).

init(plain) ->
    {ok, nostate};
init({announce, Driver}) ->
    Driver ! {child_started, self()},
    {ok, Driver}.

handle_call(ping, _From, State) ->
    {reply, pong, State}.

handle_cast(crash, _State) ->
    exit(crash).
